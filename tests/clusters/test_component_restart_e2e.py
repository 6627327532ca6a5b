"""containerd, kube-apiserver and etcd (which takes the API server along) restarted through the provider: a
running pod keeps its container (its process and its shim are not stopped), the API answers at once, and a new
pod runs. Each runs while no other test does (`cluster_exclusive`): the requests other tests made meanwhile
would fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.codecs import from_dict
from lightkube.resources.core_v1 import Pod

from clusters.images import catalog
from clusters.local import processes, steps
from clusters.local.provider import LocalProvider
from harness.farm_lock import farm_exclusive
from tests.polling import wait_for

pytestmark = pytest.mark.e2e


def _pod(name: str, namespace: str, script: str) -> Any:
    return from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "main", "image": catalog.WORKLOAD.ref, "command": ["sh", "-c", script]}],
            },
        }
    )


def _container(kube: Client, name: str, namespace: str) -> dict[str, Any]:
    """The pod's phase and its one container's ID and restart count."""
    pod = kube.get(Pod, name, namespace=namespace)
    statuses = (pod.status.containerStatuses if pod.status else None) or []
    first = statuses[0] if statuses else None
    return {
        "phase": pod.status.phase if pod.status else None,
        "containerID": first.containerID if first else None,
        "restartCount": first.restartCount if first else None,
    }


def _processes_and_shims(container_id: str) -> set[int]:
    """The container's processes (its ID is in their cgroup path) and their parents, its shim."""
    short = container_id.split("://", 1)[-1]
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and short in (entry / "cgroup").read_text():
                status = (entry / "status").read_text()
                parent = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))
                found |= {int(entry.name), parent}
        except (OSError, StopIteration):
            continue
    return found


@pytest.mark.cluster_exclusive  # the API requests of other tests would fail meanwhile
@pytest.mark.parametrize("component", ["containerd", "kube-apiserver", "etcd"])
def test_a_restart_keeps_running_pods_and_new_pods_run(
    local_cluster: LocalProvider, kube: Client, namespace: str, component: str
) -> None:
    kube.create(_pod("sleeper", namespace, "sleep 3600"))
    before = wait_for(
        lambda: (c := _container(kube, "sleeper", namespace))["phase"] == "Running" and c["containerID"] and c,
        90,
        "pod sleeper to run",
        lambda: str(_container(kube, "sleeper", namespace)),
    )
    running = _processes_and_shims(before["containerID"])
    assert running, f"no process of container {before['containerID']} found"
    pids = {c: processes.read_pid(local_cluster.layout, c) for c in steps.RESTARTS[component]}
    with farm_exclusive(local_cluster.kubeconfig()):
        local_cluster.restart(component)
    assert local_cluster.status().running
    for name, pid in pids.items():
        assert processes.read_pid(local_cluster.layout, name) != pid, f"{name} was not restarted"
    assert all(processes.alive(pid) for pid in running), "the container's process or its shim was stopped"
    kube.create(_pod("newcomer", namespace, "echo newcomer-ran"))
    wait_for(
        lambda: _container(kube, "newcomer", namespace)["phase"] == "Succeeded",
        120,
        "a pod created after the restart to run",
        lambda: str(_container(kube, "newcomer", namespace)),
    )
    assert _container(kube, "sleeper", namespace) == before, "the running pod's container did not survive"
