"""Extended-resource requests (`resources.limits`) served by a DeviceClass with extendedResourceName."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = [
    pytest.mark.area("extended-resource"),
    pytest.mark.dra_gate("DRAExtendedResource"),
    pytest.mark.needs_farm,
]
RESOURCE = "drafarm.dev/fpga-region"


def test_pod_asking_for_an_extended_resource_gets_a_device(dra: DraTest) -> None:
    klass = "fpga-extended.drafarm.dev"
    dra.kube.ensure(
        b.device_class(
            klass,
            cel='device.driver == "drafarm.dev" && device.attributes["drafarm.dev"].type == "gpu" '
            '&& device.attributes["drafarm.dev"].index == 2',
            extended_resource_name=RESOURCE,
        )
    )
    spec = b.pod("extended", b.container("main", ["sh", "-c", "env | grep DRAFARM_GPU || true"]), image=dra.env.image)
    spec["spec"]["containers"][0]["resources"] = {"limits": {RESOURCE: "1"}, "requests": {RESOURCE: "1"}}
    dra.create(spec)
    logs = dra.wait.pod_succeeded("extended", timeout=120)
    assert "DRAFARM_GPU_2_UUID" in logs, logs
