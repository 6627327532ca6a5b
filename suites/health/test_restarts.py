"""Restarting the plugin, the kubelet, the API server (with etcd) or containerd keeps running pods running;
slices come back, once each; new pods run.

These disrupt the shared cluster for a few seconds: every wait here is generous."""

from __future__ import annotations

import time
from typing import Any

import pytest

from clusters.provider import ClusterProvider
from harness import builders as b
from harness.dratest import DraTest, FarmControl
from harness.environment import DraEnvironment

pytestmark = [
    pytest.mark.area("restarts"),
    pytest.mark.needs_farm,
    pytest.mark.usefixtures("farm_exclusive"),
    pytest.mark.devices_alone,  # a restart withdraws and republishes the node's slices
]
GPU_2 = 'device.attributes["drafarm.dev"].index == 2'
GPU_0 = 'device.attributes["drafarm.dev"].index == 0'
LOOP = (
    "while true; do "
    "if python3 -m fakedevices.client gpu-run --n 10 --check >/dev/null 2>&1; "
    "then echo job-ok; else echo job-failed; fi; "
    "sleep 0.5; done"
)


def _node_devices(dra: DraTest) -> list[str]:
    node = dra.env.control_node or dra.env.nodes[0]
    slices = dra.kube.items("ResourceSlice", fields={"spec.driver": dra.driver, "spec.nodeName": node})
    return sorted(d["name"] for s in slices for d in s["spec"].get("devices") or [])


def _start_worker(dra: DraTest) -> None:
    dra.claim("held", b.request("gpu", dra.device_class("gpu"), cel=GPU_2))
    dra.pod("worker", LOOP, claims={"gpu": "held"}, on_node=dra.env.control_node)
    dra.wait.until("pod worker to run jobs", lambda: "job-ok" in dra.kube.logs("worker", dra.ns), 180, pod="worker")


def _worker_survived(dra: DraTest, before: dict[str, Any]) -> None:
    """The worker is the same running container as before, and its GPU works again."""
    mark = len(dra.kube.logs("worker", dra.ns).splitlines())
    dra.wait.until(
        "pod worker to run jobs on its GPU after the restart",
        lambda: "job-ok" in dra.kube.logs("worker", dra.ns).splitlines()[mark:],
        180,
        pod="worker",
    )
    pod = dra.get("Pod", "worker") or {}
    [status] = pod["status"]["containerStatuses"]
    assert pod["status"]["phase"] == "Running", f"pod worker is {pod['status']['phase']} after the restart"
    assert status["restartCount"] == before["restartCount"] and status["containerID"] == before["containerID"], (
        f"pod worker's container was replaced by the restart: before {before}, after {status}"
    )


def _new_pod_runs(dra: DraTest) -> None:
    dra.claim("fresh", b.request("gpu", dra.device_class("gpu"), cel=GPU_0))
    logs = dra.run("newcomer", dra.proof_script(), claims={"gpu": "fresh"}, timeout=240, on_node=dra.env.control_node)
    assert "drafarm-proof-ok" in logs, f"a new pod after the restart does not get its device:\n{logs}"


def _container(dra: DraTest) -> dict[str, Any]:
    [status] = (dra.get("Pod", "worker") or {})["status"]["containerStatuses"]
    return dict(status)


PLUGIN = "drafarm-plugin"


def _restartable(env: DraEnvironment, component: str) -> ClusterProvider:
    if env.provider is None or component not in env.provider.restartable:
        where = env.provider.name if env.provider is not None else "a cluster given by kubeconfig"
        pytest.skip(f"restarting {component} needs a provider that can (not {where})")
    return env.provider


def _worker_before_restart(
    dra: DraTest, env: DraEnvironment, component: str
) -> tuple[ClusterProvider, list[str], dict[str, Any]]:
    """Before restarting `component` (skipped where the provider cannot): the provider, the node's devices, and
    the container of the worker started on the node's GPU."""
    provider = _restartable(env, component)
    devices = _node_devices(dra)
    _start_worker(dra)
    return provider, devices, _container(dra)


def _plugin_down(env: DraEnvironment) -> bool:
    assert env.control is not None
    return not env.control.available()


def test_plugin_restart_keeps_pods_running_and_new_pods_schedule(
    dra: DraTest, dra_env: DraEnvironment, farm_control: FarmControl
) -> None:
    provider, devices, before = _worker_before_restart(dra, dra_env, PLUGIN)
    farm_control.kill_plugin()
    dra.wait.until("the killed plugin to stop answering", lambda: _plugin_down(dra_env), 30)
    provider.restart(PLUGIN)
    dra.wait.until("the restarted plugin to publish the node's devices", lambda: _node_devices(dra) == devices, 120)
    _worker_survived(dra, before)
    _new_pod_runs(dra)


def _proof_pod(dra: DraTest, name: str, cel: str) -> None:
    dra.claim(name, b.request("gpu", dra.device_class("gpu"), cel=cel))
    dra.pod(name, dra.proof_script(), claims={"gpu": name}, on_node=dra.env.control_node)


def _proof_passed(dra: DraTest, name: str) -> None:
    dra.wait.until(f"pod {name} to finish", lambda: _finished(dra, name), 240, pod=name)
    logs = dra.wait.pod_succeeded(name, timeout=5)
    assert "drafarm-proof-ok" in logs, f"pod {name} did not get its device:\n{logs}"


def _finished(dra: DraTest, pod: str) -> bool:
    return ((dra.get("Pod", pod) or {}).get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _devices_settle(dra: DraTest, devices: list[str]) -> None:
    """The node's slices list each device once, as before, and stay so (no duplicate publishing)."""
    dra.wait.until("the node's slices to list its devices as before", lambda: _node_devices(dra) == devices, 120)
    for _ in range(5):
        time.sleep(2)  # poll: sampling that the slices stay as they are, not waiting for a change
        assert _node_devices(dra) == devices, f"the node's slices changed after the restart: {_node_devices(dra)}"


@pytest.mark.cluster_exclusive
def test_api_server_and_etcd_restart_keeps_pods_running_and_the_driver_recovers(
    dra: DraTest, dra_env: DraEnvironment
) -> None:
    provider, devices, before = _worker_before_restart(dra, dra_env, "etcd")
    _proof_pod(dra, "newcomer", GPU_0)  # its prepare meets the API server going away
    provider.restart("etcd")
    _proof_passed(dra, "newcomer")
    _worker_survived(dra, before)
    _devices_settle(dra, devices)


@pytest.mark.parametrize("component", ["kubelet", pytest.param("containerd", marks=pytest.mark.cluster_exclusive)])
def test_a_node_component_restart_keeps_pods_running_slices_back_and_new_pods_start(
    dra: DraTest, dra_env: DraEnvironment, component: str
) -> None:
    provider, devices, before = _worker_before_restart(dra, dra_env, component)
    provider.restart(component)
    _devices_settle(dra, devices)
    _worker_survived(dra, before)
    _new_pod_runs(dra)


def _prepared_claims(env: DraEnvironment) -> list[str]:
    assert env.control is not None
    return list(env.control.status().prepared)


def test_a_force_deleted_pods_claim_is_unprepared_across_a_kubelet_restart(
    dra: DraTest, dra_env: DraEnvironment
) -> None:
    """Nothing stays prepared for a claim that is gone: whoever notices first (the kubelet's own cleanup
    of the dead pod, or the plugin's orphan collection), the claim ends unprepared, CDI spec and all."""
    provider = _restartable(dra_env, "kubelet")
    dra.template("gpu", b.request("gpu", dra.device_class("gpu"), cel=GPU_2))
    dra.pod("doomed", "sleep 3600", templates={"gpu": "gpu"}, on_node=dra.env.control_node)
    dra.wait.until("pod doomed to run", lambda: _phase(dra, "doomed") == "Running", 180, pod="doomed")
    claim = dra.get("ResourceClaim", dra.pod_claim_name("doomed", "gpu")) or {}
    uid = str(claim["metadata"]["uid"])
    assert uid in _prepared_claims(dra_env) and dra.cdi_specs_for(uid), f"claim {uid} is not prepared"

    dra.kube.delete("Pod", "doomed", dra.ns, grace=0)
    provider.restart("kubelet")
    dra.wait.until(
        f"claim {uid} of the force-deleted pod to be unprepared",
        lambda: uid not in _prepared_claims(dra_env) and not dra.cdi_specs_for(uid),
        240,
    )


def _phase(dra: DraTest, pod: str) -> str:
    return str(((dra.get("Pod", pod) or {}).get("status") or {}).get("phase"))
