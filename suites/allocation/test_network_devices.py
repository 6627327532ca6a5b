"""Network-attached cameras: a pool reachable from some nodes restricts where the pod runs."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = [pytest.mark.area("network-devices"), pytest.mark.capability("networkAttached")]


def test_camera_claim_restricts_the_pod_to_nodes_that_reach_it(dra: DraTest) -> None:
    dra.claim("cam", b.request("cam", dra.device_class("camera")))
    logs = dra.run("viewer", "python3 -m fakedevices.client camera-frames --count 2 --check", claims={"cam": "cam"})
    selector = dra.allocation("cam").get("nodeSelector")
    assert selector, "a network-attached device's allocation must carry the pool's node selector"
    pod = dra.get("Pod", "viewer") or {}
    values = [v for t in selector["nodeSelectorTerms"] for f in t.get("matchFields") or [] for v in f["values"]]
    assert pod["spec"]["nodeName"] in values
    [result] = dra.results("cam")
    assert dra.json_lines(logs)[-1]["camera"] == result["device"]
