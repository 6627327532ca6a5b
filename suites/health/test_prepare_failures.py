"""Prepare failures: the kubelet retries transient ones until the pod runs; a permanent one tells why."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest, FarmControl

pytestmark = [
    pytest.mark.area("prepare-failures"),
    pytest.mark.needs_farm,
    pytest.mark.usefixtures("farm_exclusive"),
]
GPU_2 = 'device.attributes["drafarm.dev"].index == 2'


@pytest.mark.smoke
def test_transient_prepare_failures_are_retried_until_the_pod_runs(dra: DraTest, farm_control: FarmControl) -> None:
    farm_control.fail_prepares(2, message="device busy")
    dra.claim("gpu", b.request("gpu", dra.device_class("gpu"), cel=GPU_2))
    dra.pod("retry", dra.proof_script(), claims={"gpu": "gpu"}, on_node=dra.env.control_node)
    event = dra.wait.event("retry", "FailedPrepareDynamicResources", "device busy", 120)
    assert "transient" in str(event.get("message")), f"the failure event is not our injected one: {event}"
    logs = dra.wait.pod_succeeded("retry", timeout=300)  # the kubelet backs off between prepare attempts
    assert "drafarm-proof-ok" in logs, f"the pod ran after the retries but does not show its device:\n{logs}"


def test_permanent_prepare_failure_is_an_event_with_our_message(dra: DraTest, farm_control: FarmControl) -> None:
    farm_control.fail_prepares(permanent=True, message="firmware hang")
    dra.claim("gpu", b.request("gpu", dra.device_class("gpu"), cel=GPU_2))
    dra.pod("stuck", "true", claims={"gpu": "gpu"}, on_node=dra.env.control_node)
    event = dra.wait.event("stuck", "FailedPrepareDynamicResources", "firmware hang", 120)
    message = str(event.get("message"))
    assert f"{dra.ns}/gpu" in message, f"the event should name the claim {dra.ns}/gpu: {message}"
    phase = ((dra.get("Pod", "stuck") or {}).get("status") or {}).get("phase")
    assert phase == "Pending", f"a pod whose claim cannot be prepared must not start; it is {phase}"
    statuses = ((dra.get("Pod", "stuck") or {}).get("status") or {}).get("containerStatuses") or []
    assert not any("running" in (s.get("state") or {}) for s in statuses), statuses
