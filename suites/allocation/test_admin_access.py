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


def test_admin_claim_monitors_a_device_another_claim_holds(dra: DraTest) -> None:
    cel = dra.pick("admin")  # one device per node: the monitor must get the one the owner holds
    dra.claim("owner", b.request("dev", dra.device_class("admin"), cel=cel))
    dra.pod("owner", "echo ready; sleep 600", claims={"dev": "owner"})
    dra.wait.pod_running("owner")
    [held] = dra.results("owner")
    dra.kube.client.patch(_namespace_kind(), dra.ns, {"metadata": {"labels": {ADMIN_LABEL: "true"}}})
    dra.claim("monitor", b.request("dev", dra.device_class("admin"), cel=cel, admin_access=True))
    env = dra.profile.device_class("admin").device_env
    script = dra.env_script(env.pattern) if env else "true"
    logs = dra.run("monitor", script, claims={"dev": "monitor"}, on_node=_node(dra, "owner"))
    [admin] = dra.results("monitor")
    assert (admin["pool"], admin["device"]) == (held["pool"], held["device"]) and admin.get("adminAccess") is True
    if env is not None:
        name = str(dra.attribute(held["pool"], held["device"], env.attribute))
        assert name in dra.env_values(logs, env.pattern).values(), f"the monitor does not see {name}:\n{logs}"
    assert (dra.get("Pod", "owner") or {})["status"]["phase"] == "Running"


def _node(dra: DraTest, pod: str) -> str:
    return str(((dra.get("Pod", pod) or {}).get("spec") or {}).get("nodeName"))


def test_admin_access_needs_the_namespace_label(dra: DraTest) -> None:
    from lightkube import ApiError

    with pytest.raises(ApiError) as err:
        dra.claim("sneaky", b.request("gpu", dra.device_class("gpu"), admin_access=True))
    assert ADMIN_LABEL in str(err.value.status.message)


def _namespace_kind() -> type:
    from lightkube.resources.core_v1 import Namespace

    return Namespace
