"""Admin access: a monitoring claim may use a device that another claim already holds."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = [
    pytest.mark.area("admin-access"),
    pytest.mark.dra_gate("DRAAdminAccess"),
    pytest.mark.capability("adminAccess"),
]
ADMIN_LABEL = "resource.kubernetes.io/admin-access"


@pytest.mark.needs_farm
def test_admin_claim_monitors_a_device_another_claim_holds(dra: DraTest) -> None:
    # An FPGA: the scheduler (1.36) refuses admin access to devices that consume shared counters.
    bitstream = {
        "apiVersion": "drafarm.dev/v1alpha1",
        "kind": "FpgaConfig",
        "bitstream": {"name": "crc32", "family": "agilex7", "sha256": "a" * 64},
    }
    dra.claim("owner", b.request("fpga", dra.device_class("fpga")), config=[b.opaque(dra.driver, bitstream)])
    dra.pod("owner", "echo ready; sleep 600", claims={"fpga": "owner"})
    dra.wait.pod_running("owner")
    [held] = dra.results("owner")
    dra.kube.client.patch(_namespace_kind(), dra.ns, {"metadata": {"labels": {ADMIN_LABEL: "true"}}})
    cel = f'device.attributes["drafarm.dev"].serial == "{dra.attribute(held["pool"], held["device"], "serial")}"'
    dra.claim("monitor", b.request("fpga", dra.device_class("fpga"), cel=cel, admin_access=True))
    logs = dra.run("monitor", "env | grep '^DRAFARM_FPGA_'", claims={"fpga": "monitor"})
    [admin] = dra.results("monitor")
    assert admin["device"] == held["device"] and admin.get("adminAccess") is True
    assert "_ADMIN=true" in logs
    assert (dra.get("Pod", "owner") or {})["status"]["phase"] == "Running"


def test_admin_access_needs_the_namespace_label(dra: DraTest) -> None:
    from lightkube import ApiError

    with pytest.raises(ApiError) as err:
        dra.claim("sneaky", b.request("gpu", dra.device_class("gpu"), admin_access=True))
    assert ADMIN_LABEL in str(err.value.status.message)


def _namespace_kind() -> type:
    from lightkube.resources.core_v1 import Namespace

    return Namespace
