"""A rolling update of the farm's driver DaemonSet on kind while pods with claims come and go: each new
driver pod starts beside the old one (maxSurge 1, its own `--instance`), so no pod with a claim fails to
start during the switch, and a running pod keeps its container and its device."""

from __future__ import annotations

import subprocess
import threading
from typing import Any

from clusters.driver import manifest
from clusters.images import catalog
from clusters.kind.provider import KindProvider
from clusters.polling import poll
from clusters.toolchain import lookup
from harness import builders as b
from harness.kube import Kube

NAMESPACE = "rollout"
CLASS = "rollout-gpu.drafarm.dev"
LOOP = "while true; do python3 -m fakedevices.client gpu-run --n 10 --check >/dev/null && echo job-ok; sleep 1; done"


def _kubectl(provider: KindProvider, *args: str) -> str:
    kubectl = lookup.binaries(provider.settings.pins, build_missing=False)["kubectl"]
    proc = subprocess.run(
        [str(kubectl), f"--kubeconfig={provider.kubeconfig()}", *args],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def _phase(kube: Kube, name: str) -> str:
    return str(((kube.get("Pod", name, NAMESPACE) or {}).get("status") or {}).get("phase"))


def _why(kube: Kube, name: str) -> dict[str, Any]:
    """A pod's container state, its log's tail and its events: what the assertion shows when it failed."""
    statuses = ((kube.get("Pod", name, NAMESPACE) or {}).get("status") or {}).get("containerStatuses") or []
    events = [
        f"{e.get('reason')}: {e.get('message')}"
        for e in kube.items("Event", NAMESPACE)
        if (e.get("involvedObject") or {}).get("name") == name
    ]
    return {"state": [s.get("state") for s in statuses], "log": kube.logs(name, NAMESPACE)[-1500:], "events": events}


def _pod(name: str, script: str, restart: str = "Never") -> dict[str, Any]:
    main = b.container("main", ["sh", "-c", script], claims=["gpu"])
    return b.pod(name, main, templates={"gpu": "one"}, image=catalog.WORKLOAD.ref, namespace=NAMESPACE, restart=restart)


def roll_the_driver_while_pods_start(provider: KindProvider) -> dict[str, Any]:
    """Restart the driver DaemonSet's pods one node at a time while a pod with a claim starts every second;
    returns what happened (asserted by the caller)."""
    kube = Kube(provider.kubeconfig())
    kube.ensure({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    poll(lambda: kube.get("ServiceAccount", "default", NAMESPACE) is not None, 60)
    selector = 'device.driver == "drafarm.dev" && device.attributes["drafarm.dev"].type == "gpu"'
    kube.ensure(b.device_class(CLASS, cel=selector))
    kube.create(b.claim_template("one", b.request("gpu", CLASS), namespace=NAMESPACE))
    kube.create(_pod("steady", LOOP, restart="Always"))
    assert poll(lambda: "job-ok" in kube.logs("steady", NAMESPACE), 180), "pod steady never used its GPU"
    before = (kube.get("Pod", "steady", NAMESPACE) or {})["status"]["containerStatuses"][0]

    old = {p["metadata"]["uid"] for p in kube.items("Pod", manifest.NAMESPACE)}
    _kubectl(provider, "-n", manifest.NAMESPACE, "rollout", "restart", f"daemonset/{manifest.NAME}")
    started: list[str] = []
    done = threading.Event()

    def start_pods() -> None:
        while not done.is_set() and len(started) < 40:
            name = f"during-{len(started)}"
            kube.create(_pod(name, "python3 -m fakedevices.client info >/dev/null && echo drafarm-ok"))
            started.append(name)
            done.wait(1.0)  # one pod a second until the rollout is over

    thread = threading.Thread(target=start_pods, daemon=True)
    thread.start()
    try:
        _kubectl(
            provider, "-n", manifest.NAMESPACE, "rollout", "status", f"daemonset/{manifest.NAME}", "--timeout=300s"
        )
    finally:
        done.set()
        thread.join(30)
    poll(lambda: not old & {p["metadata"]["uid"] for p in kube.items("Pod", manifest.NAMESPACE)}, 120)
    new = {p["metadata"]["uid"] for p in kube.items("Pod", manifest.NAMESPACE)}
    poll(lambda: all(_phase(kube, n) in ("Succeeded", "Failed") for n in started), 300)
    after = (kube.get("Pod", "steady", NAMESPACE) or {})["status"]["containerStatuses"][0]
    mark = len(kube.logs("steady", NAMESPACE).splitlines())
    steady_works = poll(lambda: "job-ok" in kube.logs("steady", NAMESPACE).splitlines()[mark:], 60)
    phases = {n: _phase(kube, n) for n in started}
    return {
        "driver_pods_replaced": not (old & new) and len(new) == len(old),
        "started": phases,
        "why_not_succeeded": {n: _why(kube, n) for n, phase in phases.items() if phase != "Succeeded"},
        "steady_same_container": after["containerID"] == before["containerID"] and after["restartCount"] == 0,
        "steady_uses_its_gpu": steady_works,
    }
