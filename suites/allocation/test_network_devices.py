"""Network-attached devices: a pool reachable from some nodes restricts where the pod runs."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = [pytest.mark.area("network-devices"), pytest.mark.capability("networkAttached")]


def _node_selector_values(dra: DraTest, claim: str) -> list[str]:
    selector = dra.allocation(claim).get("nodeSelector")
    assert selector, "a network-attached device's allocation must carry the pool's node selector"
    terms = selector["nodeSelectorTerms"]
    return [
        v for t in terms for f in (t.get("matchFields") or []) + (t.get("matchExpressions") or []) for v in f["values"]
    ]


def test_camera_claim_restricts_the_pod_to_nodes_that_reach_it(dra: DraTest) -> None:
    dra.claim("cam", b.request("cam", dra.device_class("camera")))
    dra.run("viewer", "true", claims={"cam": "cam"})
    values = _node_selector_values(dra, "cam")
    pod = dra.get("Pod", "viewer") or {}
    node = pod["spec"]["nodeName"]
    labels = ((dra.kube.get("Node", node) or {}).get("metadata") or {}).get("labels") or {}
    assert node in values or set(labels.values()) & set(values), f"pod ran on {node}, outside the pool's {values}"


@pytest.mark.needs_farm
def test_the_pod_reads_frames_from_its_camera(dra: DraTest) -> None:
    dra.claim("cam", b.request("cam", dra.device_class("camera")))
    logs = dra.run("viewer", "python3 -m fakedevices.client camera-frames --count 2 --check", claims={"cam": "cam"})
    [result] = dra.results("cam")
    assert dra.json_lines(logs)[-1]["camera"] == result["device"]
