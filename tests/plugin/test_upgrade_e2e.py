"""A driver upgrade on the real local cluster: while pods with claims are created every two seconds, a
second instance of the node's plugin starts beside the running one (same farm, node and state dir,
`plugin run --instance ID`); once the kubelet registered it, the old one is stopped by its PID, and pods
keep coming for a while. No pod fails to start (no `FailedPrepareDynamicResources`), the pods from before
the switch keep running with their devices, and the node's slices stay. The cluster's normal plugin is
put back at the end, the same way: started beside the new instance, which is then stopped.

Needs a kubelet that accepts two instances of one DRA driver (1.33+). It holds the driver's devices
alone (`device_lock.exclusive`, what the suites' `devices_alone` marker takes) and the farm lock
(`farm_exclusive`): other tests' pods would compete for the partitions the pod stream needs and could
make it wait past its deadlines, faults other tests set live in the old plugin process and end with it,
and the restart that puts this checkout's plugin in place first (when the cluster runs another one) and
the one at the end leave a moment without a plugin. It does not take the cluster alone
(`cluster_exclusive`): the API server, scheduler and kubelet keep running for every other test."""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clusters.local import farm as local_farm
from clusters.local import processes
from clusters.local.provider import LocalProvider
from clusters.log_tail import log_tail
from clusters.polling import poll
from fakedevices.plugin.layout import registration_socket
from harness import builders as b
from harness import device_lock
from harness.farm_lock import farm_exclusive
from harness.kube import Kube
from harness.waiters import Waiter

pytestmark = pytest.mark.e2e
DRIVER = "drafarm.dev"
IMAGE = "drafarm.local/workload:1"
UPGRADE = "drafarm-plugin-upgrade"
"""The new instance's component name: its log and PID file in the cluster's layout."""
POD_EVERY_S = 2.0
BEFORE_SWITCH_S = 10.0
AFTER_SWITCH_S = 20.0
GPU_CLASS = "e2e-upgrade.drafarm.dev"
ATTR = f'device.attributes["{DRIVER}"]'
PARTITION = f'{ATTR}.type == "partition" && {ATTR}.index == 2 && {ATTR}.profile == "1g-5gb"'
"""The stream's pods take gpu-2's seven 1g partitions: room for the few that run at once."""
WORKER = (
    "while true; do "
    "if python3 -m fakedevices.client gpu-run --n 10 --check >/dev/null 2>&1; "
    "then echo job-ok; else echo job-failed; fi; "
    "sleep 0.5; done"
)
JOB = "python3 -m fakedevices.client gpu-run --n 10 --check"


class PodStream:
    """Creates a pod with a claim (from a template) every `POD_EVERY_S`, from a thread, until stopped."""

    def __init__(self, kube: Kube, namespace: str, template: str) -> None:
        self.kube = kube
        self.namespace = namespace
        self.template = template
        self.names: list[str] = []
        self.errors: list[str] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pod-stream", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(30)

    def _run(self) -> None:
        while True:
            name = f"job-{len(self.names):03d}"
            try:
                self.kube.create(
                    b.pod(
                        name,
                        b.container("main", ["sh", "-c", JOB], claims=["gpu"]),
                        templates={"gpu": self.template},
                        image=IMAGE,
                        namespace=self.namespace,
                    )
                )
                self.names.append(name)
            except Exception as exc:  # the test fails on it, after the switch is undone
                self.errors.append(f"{name}: {exc}")
            if self._stopping.wait(POD_EVERY_S):
                return


class Upgrade:
    """The local cluster's plugin (component `drafarm-plugin`) and a second instance of it."""

    def __init__(self, cluster: LocalProvider) -> None:
        self.cluster = cluster
        self.layout = cluster.layout
        self.instance = f"upgrade-{uuid.uuid4().hex[:8]}"
        self.pid: int | None = None

    def old_pid(self) -> int:
        pid = processes.read_pid(self.layout, local_farm.PLUGIN)
        assert pid is not None and processes.alive(pid), f"the cluster's plugin does not run (pid {pid})"
        return pid

    def run_this_checkout(self) -> None:
        """The plugin that runs must be this checkout's (its venv's python runs it): another one may know
        nothing of instances. A plain restart otherwise, before any pod of this test exists."""
        pid = processes.read_pid(self.layout, local_farm.PLUGIN)
        if pid is not None and processes.alive(pid) and _command(pid)[:1] == [sys.executable]:
            return
        processes.stop(self.layout, local_farm.PLUGIN, 15.0)
        self.cluster.restart(local_farm.PLUGIN)

    def start_new(self) -> None:
        source = local_farm.reload_farm(Path(str(self.cluster.state.read()["farm"])))
        argv = local_farm.plugin_argv(
            self.cluster.cfg, self.layout, source, self.cluster.kubelet_root_dir, instance=self.instance
        )
        self.pid = processes.start(self.layout, UPGRADE, argv)
        self._wait_registered()

    def _wait_registered(self) -> None:
        log = self.layout.log(UPGRADE)
        line = f"kubelet registered driver {DRIVER} (instance {self.instance})"

        def registered() -> bool:
            assert self.pid is not None and processes.alive(self.pid), f"the new instance exited:\n{_tail(log)}"
            return line in log.read_text(errors="replace").rsplit(f"==== drafarm: starting {UPGRADE}", 1)[-1]

        assert poll(registered, 60, 0.2), f"the kubelet did not register the new instance in 60 s:\n{_tail(log)}"

    def stop_old(self) -> None:
        pid = self.old_pid()
        processes.stop(self.layout, local_farm.PLUGIN, 15.0)
        assert not processes.alive(pid), f"the old instance (pid {pid}) did not stop"

    def sockets(self) -> tuple[Path, Path]:
        """The old instance's registration socket and the new one's."""
        root = self.cluster.kubelet_root_dir
        return registration_socket(root, DRIVER), registration_socket(root, DRIVER, self.instance)

    def restore(self) -> None:
        """The cluster's normal plugin back, started beside the new instance, which then stops."""
        try:
            pid = processes.read_pid(self.layout, local_farm.PLUGIN)
            if pid is None or not processes.alive(pid):
                self.cluster.restart(local_farm.PLUGIN)
        finally:
            processes.stop(self.layout, UPGRADE, 15.0)


@pytest.fixture
def upgrade(farm_cluster: LocalProvider, hkube: Kube) -> Iterator[Upgrade]:
    kubeconfig = farm_cluster.kubeconfig()
    with device_lock.exclusive(DRIVER, kubeconfig), farm_exclusive(kubeconfig):
        minor = _kubelet_minor(hkube, farm_cluster.nodes()[0])
        if minor is not None and minor < 33:
            pytest.skip(f"the kubelet (1.{minor}) registers one instance of a DRA driver at a time; needs 1.33+")
        switch = Upgrade(farm_cluster)
        switch.run_this_checkout()
        try:
            yield switch
        finally:
            switch.restore()


def test_no_pod_with_a_claim_fails_to_start_while_the_plugin_is_upgraded(
    upgrade: Upgrade, hkube: Kube, namespace: str
) -> None:
    node = upgrade.cluster.nodes()[0]
    hkube.ensure(b.device_class(GPU_CLASS, cel=f'device.driver == "{DRIVER}"'))
    hkube.create(b.claim_template("partition", b.request("gpu", GPU_CLASS, cel=PARTITION), namespace=namespace))
    waiter = Waiter(hkube, namespace, plugin_log=lambda: _tail(upgrade.layout.log(UPGRADE), 20))
    workers = {f"worker-{i}": _worker(hkube, namespace, i) for i in (0, 1)}
    for name in workers:
        waiter.until(f"pod {name} to run jobs", _ran_a_job(hkube, namespace, name, since_line=0), 180, pod=name)
    before = {name: _container(hkube, namespace, name) for name in workers}
    devices = _node_devices(hkube, node)

    stream = PodStream(hkube, namespace, "partition")
    stream.start()
    try:
        _keep_creating(stream, BEFORE_SWITCH_S)
        upgrade.start_new()
        old_socket, new_socket = upgrade.sockets()
        assert old_socket.exists() and new_socket.exists(), "both instances are registered at once"
        upgrade.stop_old()
        assert not old_socket.exists() and new_socket.exists()
        marks = {name: len(hkube.logs(name, namespace).splitlines()) for name in workers}
        _keep_creating(stream, AFTER_SWITCH_S)
    finally:
        stream.stop()

    assert stream.errors == [], f"pods could not be created: {stream.errors}"
    for name in stream.names:
        waiter.pod_succeeded(name, timeout=300)
    failed = [
        f"{e.get('involvedObject', {}).get('name')}: {e.get('message')}"
        for e in hkube.events(namespace)
        if e.get("reason") == "FailedPrepareDynamicResources"
    ]
    assert failed == [], f"prepares failed during the upgrade: {failed}"
    for name in workers:
        waiter.until(
            f"pod {name} to run a job after the switch", _ran_a_job(hkube, namespace, name, marks[name]), 120, pod=name
        )
        logs = hkube.logs(name, namespace)
        assert "job-failed" not in logs, f"pod {name} lost its device during the upgrade:\n{logs[-2000:]}"
        assert _container(hkube, namespace, name) == before[name], f"pod {name}'s container was replaced"
    assert _node_devices(hkube, node) == devices, "the node's slices changed during the upgrade"
    assert len(stream.names) >= (BEFORE_SWITCH_S + AFTER_SWITCH_S) / POD_EVERY_S / 2


def _keep_creating(stream: PodStream, seconds: float) -> None:
    """Let the stream create pods for `seconds`; stop early when a create failed."""
    assert not poll(lambda: bool(stream.errors), seconds, 0.5), f"pods could not be created: {stream.errors}"


def _ran_a_job(kube: Kube, namespace: str, pod: str, since_line: int) -> Callable[[], bool]:
    return lambda: "job-ok" in kube.logs(pod, namespace).splitlines()[since_line:]


def _worker(kube: Kube, namespace: str, index: int) -> str:
    """A pod that uses its whole GPU (gpu-0, gpu-1) every half second for as long as it runs."""
    name = f"worker-{index}"
    kube.create(
        b.claim(
            name,
            b.request("gpu", GPU_CLASS, cel=f'{ATTR}.type == "gpu" && {ATTR}.index == {index}'),
            namespace=namespace,
        )
    )
    kube.create(
        b.pod(
            name,
            b.container("main", ["sh", "-c", WORKER], claims=["gpu"]),
            claims={"gpu": name},
            image=IMAGE,
            namespace=namespace,
        )
    )
    return name


def _container(kube: Kube, namespace: str, pod: str) -> tuple[str, int, str]:
    obj = kube.get("Pod", pod, namespace) or {}
    [status] = obj["status"]["containerStatuses"]
    return str(status["containerID"]), int(status["restartCount"]), str(obj["status"]["phase"])


def _node_devices(kube: Kube, node: str) -> list[str]:
    slices = kube.items("ResourceSlice", fields={"spec.driver": DRIVER, "spec.nodeName": node})
    return sorted(d["name"] for s in slices for d in s["spec"].get("devices") or [])


def _kubelet_minor(kube: Kube, node: str) -> int | None:
    version = str((((kube.get("Node", node) or {}).get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion"))
    try:
        return int(version.lstrip("v").split(".")[1])
    except (IndexError, ValueError):
        return None


def _command(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _tail(path: Path, lines: int = 25) -> str:
    return log_tail(path, lines, "<no log>")
