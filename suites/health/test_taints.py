"""DeviceTaintRules: NoSchedule keeps new claims off a device, NoExecute evicts the pods that use it."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.device_taints import device_taint
from harness.dratest import DraTest

pytestmark = [
    pytest.mark.area("taints"),
    pytest.mark.dra_gate("DRADeviceTaints"),
    pytest.mark.dra_gate("DRADeviceTaintRules"),
    pytest.mark.capability("health"),
    pytest.mark.needs_farm,
    pytest.mark.usefixtures("farm_exclusive"),
]
GPU_2 = 'device.attributes["drafarm.dev"].index == 2'


def _gpu_2_pool(dra: DraTest) -> str:
    for slice_ in dra.kube.items("ResourceSlice", fields={"spec.driver": dra.driver}):
        if any(d["name"] == "gpu-2" for d in slice_["spec"].get("devices") or []):
            return str(slice_["spec"]["pool"]["name"])
    raise AssertionError(f"no ResourceSlice of {dra.driver} publishes gpu-2")


def test_no_schedule_taint_keeps_new_claims_off_the_device(dra: DraTest) -> None:
    pool = _gpu_2_pool(dra)  # a node's pool: the pod stays on that node, where gpu-2 is the only match
    with device_taint(dra, "NoSchedule", pool, "gpu-2"):
        dra.claim("gpu", b.request("gpu", dra.device_class("gpu"), cel=GPU_2))
        dra.pod("kept-off", "true", claims={"gpu": "gpu"}, on_node=pool)
        event = dra.wait.event("kept-off", "FailedScheduling", "", 90)
        assert not dra.results("gpu"), (
            f"claim gpu was allocated {dra.results('gpu')} although gpu-2 carries a NoSchedule taint "
            f"(scheduler said: {event.get('message')})"
        )
        phase = ((dra.get("Pod", "kept-off") or {}).get("status") or {}).get("phase")
        assert phase == "Pending", f"pod kept-off is {phase} on a tainted device"
    allocated = dra.wait.claim_allocated("gpu", timeout=180)
    dra.wait.pod_succeeded("kept-off", timeout=180)
    [result] = allocated["status"]["allocation"]["devices"]["results"]
    assert result["device"] == "gpu-2", f"once the taint was gone the claim should get gpu-2, got {result}"


def test_no_execute_taint_evicts_the_pod_using_the_device(dra: DraTest) -> None:
    dra.claim("gpu", b.request("gpu", dra.device_class("gpu"), cel=GPU_2))
    dra.pod("victim", "echo drafarm-holding; sleep 600", claims={"gpu": "gpu"})
    dra.wait.pod_running("victim", timeout=180)
    [result] = dra.results("gpu")
    with device_taint(dra, "NoExecute", result["pool"], result["device"]):

        def evicted() -> bool:
            pod = dra.get("Pod", "victim")
            return pod is None or bool(pod["metadata"].get("deletionTimestamp"))

        dra.wait.until("pod victim to be evicted by the NoExecute taint", evicted, 120, pod="victim")
        dra.wait.gone("Pod", "victim", 120)
