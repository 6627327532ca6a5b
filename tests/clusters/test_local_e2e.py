"""End to end on a real local cluster: node, workload pod, and the DRA path up to the kubelet."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.codecs import from_dict
from lightkube.core.exceptions import ApiError
from lightkube.resources.core_v1 import Event, Node, Pod
from lightkube.resources.resource_v1 import DeviceClass, ResourceClaim, ResourceSlice

from clusters.images import catalog, oci, rootfs
from clusters.local import network, render
from clusters.local.provider import LocalProvider
from clusters.provider import ClusterError
from tests.polling import wait_for

pytestmark = pytest.mark.e2e


def _node_ready(kube: Client, name: str) -> bool:
    node = kube.get(Node, name)
    conditions = node.status.conditions if node.status and node.status.conditions else []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _pod_phase(kube: Client, name: str, namespace: str) -> str:
    pod = kube.get(Pod, name, namespace=namespace)
    return (pod.status.phase if pod.status else None) or "Unknown"


def _python_pod(kube: Client, name: str, namespace: str, code: str) -> tuple[str, str]:
    """Run `python3 -c code` in a pod of the workload image; its final phase and logs."""
    container = {"name": "main", "image": catalog.WORKLOAD.ref, "command": ["python3", "-c", code]}
    spec = {"restartPolicy": "Never", "containers": [container]}
    kube.create(from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
                           "spec": spec}))  # fmt: skip
    return _finished(kube, name, namespace)


def _finished(kube: Client, name: str, namespace: str) -> tuple[str, str]:
    """The pod's final phase and its logs, once it ended."""
    phase: str = wait_for(
        lambda: (p := _pod_phase(kube, name, namespace)) in ("Succeeded", "Failed") and p,
        90,
        f"pod {name} to finish",
        lambda: _pod_phase(kube, name, namespace),
    )
    return phase, "\n".join(kube.log(name, namespace=namespace))


def test_node_is_ready(kube: Client, local_cluster: LocalProvider) -> None:
    [node] = local_cluster.nodes()
    assert _node_ready(kube, node), f"node {node} is not Ready"


def test_workload_pod_runs_and_logs_read_back(kube: Client, namespace: str) -> None:
    script = 'echo drafarm-hello; python3 -c "import fakedevices.client; print(\\"client-importable\\")"; ls /bin/ls'
    kube.create(
        from_dict(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "hello", "namespace": namespace},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": catalog.WORKLOAD.ref, "command": ["sh", "-c", script]}],
                },
            }
        )
    )
    phase, logs = _finished(kube, "hello", namespace)
    assert phase == "Succeeded", f"pod ended {phase}; logs:\n{logs}"
    assert "drafarm-hello" in logs
    assert "client-importable" in logs
    assert "/bin/ls" in logs


@pytest.fixture
def driver_objects(kube: Client, local_cluster: LocalProvider) -> Iterator[dict[str, str]]:
    """A DeviceClass and a hand-published ResourceSlice for a driver that never registers."""
    suffix = uuid.uuid4().hex[:8]
    driver = f"e2e-{suffix}.drafarm.example.com"
    names = {"driver": driver, "class": f"e2e-gpu-{suffix}", "slice": f"e2e-slice-{suffix}"}
    [node] = local_cluster.nodes()
    kube.create(
        from_dict(
            {
                "apiVersion": "resource.k8s.io/v1",
                "kind": "DeviceClass",
                "metadata": {"name": names["class"]},
                "spec": {"selectors": [{"cel": {"expression": f'device.driver == "{driver}"'}}]},
            }
        )
    )
    kube.create(
        from_dict(
            {
                "apiVersion": "resource.k8s.io/v1",
                "kind": "ResourceSlice",
                "metadata": {"name": names["slice"]},
                "spec": {
                    "driver": driver,
                    "nodeName": node,
                    "pool": {"name": node, "generation": 1, "resourceSliceCount": 1},
                    "devices": [
                        {
                            "name": "gpu-0",
                            "attributes": {"model": {"string": "fake-a100"}},
                            "capacity": {"memory": {"value": "40Gi"}},
                        }
                    ],
                },
            }
        )
    )
    yield names
    for kind, name in ((ResourceSlice, names["slice"]), (DeviceClass, names["class"])):
        with contextlib.suppress(ApiError):
            kube.delete(kind, name)


def test_dra_claim_is_allocated_and_kubelet_reports_missing_driver(
    kube: Client, namespace: str, driver_objects: dict[str, str], local_cluster: LocalProvider
) -> None:
    [node] = local_cluster.nodes()
    kube.create(
        from_dict(
            {
                "apiVersion": "resource.k8s.io/v1",
                "kind": "ResourceClaim",
                "metadata": {"name": "gpu", "namespace": namespace},
                "spec": {
                    "devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": driver_objects["class"]}}]}
                },
            }
        )
    )
    kube.create(
        from_dict(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "uses-gpu", "namespace": namespace},
                "spec": {
                    "restartPolicy": "Never",
                    "resourceClaims": [{"name": "gpu", "resourceClaimName": "gpu"}],
                    "containers": [
                        {
                            "name": "main",
                            "image": catalog.WORKLOAD.ref,
                            "command": ["sh", "-c", "echo should-not-run"],
                            "resources": {"claims": [{"name": "gpu"}]},
                        }
                    ],
                },
            }
        )
    )

    def claim_state() -> str:
        claim = kube.get(ResourceClaim, "gpu", namespace=namespace)
        return str(claim.status.to_dict() if claim.status else None)

    def allocation() -> list[object] | None:
        claim = kube.get(ResourceClaim, "gpu", namespace=namespace)
        alloc = claim.status.allocation if claim.status else None
        return list(alloc.devices.results) if alloc and alloc.devices and alloc.devices.results else None

    results = wait_for(allocation, 60, "the scheduler to allocate claim gpu", claim_state)
    [result] = results
    assert getattr(result, "driver", None) == driver_objects["driver"]
    assert getattr(result, "device", None) == "gpu-0"
    assert getattr(result, "pool", None) == node
    pod = kube.get(Pod, "uses-gpu", namespace=namespace)
    assert pod.spec is not None and pod.spec.nodeName == node

    def prepare_failures() -> list[str]:
        events = kube.list(Event, namespace=namespace, fields={"involvedObject.name": "uses-gpu"})
        return [e.message or "" for e in events if e.reason == "FailedPrepareDynamicResources"]

    def all_events() -> str:
        events = kube.list(Event, namespace=namespace)
        return "; ".join(f"{e.reason}: {e.message}" for e in events)

    messages = wait_for(prepare_failures, 90, "the kubelet to report it cannot prepare the claim", all_events)
    assert any(driver_objects["driver"] in m for m in messages), messages
    assert _pod_phase(kube, "uses-gpu", namespace) == "Pending"


IN_CLUSTER_CLIENT = """
import json, os, ssl, urllib.request
sa = "/var/run/secrets/kubernetes.io/serviceaccount"
host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
ctx = ssl.create_default_context(cafile=sa + "/ca.crt")
req = urllib.request.Request(f"https://{host}:{port}/version")
req.add_header("Authorization", "Bearer " + open(sa + "/token").read())
print("apiserver", json.load(urllib.request.urlopen(req, context=ctx, timeout=10))["gitVersion"])
"""


def test_pod_reaches_the_apiserver_through_the_kubernetes_service(
    kube: Client, namespace: str, local_cluster: LocalProvider
) -> None:
    phase, logs = _python_pod(kube, "in-cluster", namespace, IN_CLUSTER_CLIENT)
    assert phase == "Succeeded", f"pod ended {phase}; logs:\n{logs}"
    assert f"apiserver {local_cluster.cfg.pins.kubernetes}" in logs


@pytest.fixture
def host_server(local_cluster: LocalProvider) -> Iterator[tuple[str, int]]:
    """A TCP server of the test process on the node's bridge address, answering one line."""
    server = socket.create_server((local_cluster.cfg.node_ip, 0))
    server.settimeout(0.5)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"hello-from-host\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield local_cluster.cfg.node_ip, server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    server.close()


def test_pod_reaches_a_server_on_the_host(kube: Client, namespace: str, host_server: tuple[str, int]) -> None:
    host, port = host_server
    client = f"import socket; print(socket.create_connection(({host!r}, {port}), timeout=10).recv(64).decode())"
    phase, logs = _python_pod(kube, "to-host", namespace, client)
    assert phase == "Succeeded", f"pod ended {phase}; logs:\n{logs}"
    assert "hello-from-host" in logs


def _run_pod(kube: Client, name: str, namespace: str, command: list[str]) -> None:
    spec = {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0}
    spec["containers"] = [{"name": "main", "image": catalog.WORKLOAD.ref, "command": command}]
    kube.create(
        from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": spec})
    )


def test_the_bridge_keeps_its_mac_while_pods_come_and_go(
    kube: Client, namespace: str, local_cluster: LocalProvider, host_server: tuple[str, int]
) -> None:
    bridge = Path("/sys/class/net") / local_cluster.cfg.bridge
    expected = network.bridge_mac(local_cluster.cfg.bridge)
    host, port = host_server
    # Connects to the host every 0.1 s for ~8 s; any connection that fails shows in its log and exit code.
    steady = (
        "import socket, sys, time\n"
        "bad = 0\n"
        "for i in range(80):\n"
        "    try:\n"
        f"        socket.create_connection(({host!r}, {port}), timeout=3).recv(64)\n"
        "    except OSError as exc:\n"
        "        bad += 1; print(i, exc, flush=True)\n"
        "    time.sleep(0.1)\n"  # poll: the pod paces its own connections; the test waits on conditions
        "print('failed', bad); sys.exit(1 if bad else 0)\n"
    )
    _run_pod(kube, "churn-0", namespace, ["sleep", "3600"])
    wait_for(lambda: _pod_phase(kube, "churn-0", namespace) == "Running", 90, "pod churn-0 to run", lambda: "")
    _run_pod(kube, "steady", namespace, ["python3", "-c", steady])
    wait_for(lambda: _pod_phase(kube, "steady", namespace) == "Running", 90, "pod steady to run", lambda: "")
    for i in range(1, 4):
        kube.delete(Pod, f"churn-{i - 1}", namespace=namespace, grace_period=0)
        _run_pod(kube, f"churn-{i}", namespace, ["sleep", "3600"])
        wait_for(lambda i=i: _pod_phase(kube, f"churn-{i}", namespace) == "Running", 90, f"pod churn-{i}", lambda: "")
        assert (bridge / "address").read_text().strip() == expected, "the bridge took a port's MAC"
    phase, logs = _finished(kube, "steady", namespace)
    assert phase == "Succeeded", f"the running pod lost the host while others came and went:\n{logs}"
    assert (bridge / "addr_assign_type").read_text().strip() == "3"  # NET_ADDR_SET: ports never change it


def test_alpha_and_beta_dra_fields_survive_the_apiserver(kube: Client, local_cluster: LocalProvider) -> None:
    """The apiserver drops fields of disabled gates silently: device taints (DRADeviceTaints) and
    allowMultipleAllocations (DRAConsumableCapacity) come back only if the gates are on."""
    [node] = local_cluster.nodes()
    name = f"e2e-gates-{uuid.uuid4().hex[:8]}"
    kube.create(
        from_dict(
            {
                "apiVersion": "resource.k8s.io/v1",
                "kind": "ResourceSlice",
                "metadata": {"name": name},
                "spec": {
                    "driver": f"{name}.drafarm.example.com",
                    "nodeName": node,
                    "pool": {"name": node, "generation": 1, "resourceSliceCount": 1},
                    "devices": [
                        {
                            "name": "dev-0",
                            "allowMultipleAllocations": True,
                            "taints": [{"key": "drafarm.example.com/broken", "value": "yes", "effect": "NoSchedule"}],
                        }
                    ],
                },
            }
        )
    )
    try:
        got = kube.get(ResourceSlice, name)
        [device] = got.spec.devices or []
        assert device.taints and device.taints[0].key == "drafarm.example.com/broken", "DRADeviceTaints is off"
        assert device.allowMultipleAllocations is True, "DRAConsumableCapacity is off"
    finally:
        kube.delete(ResourceSlice, name)


def test_the_runtimes_cdi_directories_exist_once_the_cluster_is_up(local_cluster: LocalProvider) -> None:
    """A driver (or a conformance run naming them) may expect them before any spec was written."""
    assert local_cluster.status().running
    for directory in render.CDI_SPEC_DIRS:
        assert Path(directory).is_dir(), directory


def test_collect_logs_copies_every_component_log(local_cluster: LocalProvider, tmp_path: Path) -> None:
    written = {p.name for p in local_cluster.collect_logs(tmp_path / "logs")}
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd", "kubelet"):
        assert f"{component}.log" in written


def test_load_image_then_run_it(kube: Client, namespace: str, local_cluster: LocalProvider, tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(rootfs.find_host_file(rootfs.BUSYBOX_CANDIDATES, "busybox-static"), root / "bin" / "busybox")
    ref = f"drafarm.local/e2e-{uuid.uuid4().hex[:8]}:1"
    archive = tmp_path / "image.tar"
    oci.write_archive(root, oci.ImageConfig(ref=ref, entrypoint=["/bin/busybox", "echo", "loaded-image-runs"]), archive)
    assert ref in local_cluster.load_image(archive)
    kube.create(
        from_dict(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "loaded", "namespace": namespace},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": ref}]},
            }
        )
    )
    phase, logs = _finished(kube, "loaded", namespace)
    assert phase == "Succeeded"
    assert "loaded-image-runs" in logs


def test_failed_up_tears_down_and_shows_the_log_tail_and_fix(
    local_cluster: LocalProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A second cluster on its own ports and ranges whose etcd port is taken: `up` must fail at etcd,
    name the log and the fix, and leave nothing behind (the shared cluster keeps running)."""
    blocker = socket.create_server(("127.0.0.1", 0))
    env = {
        "DRAFARM_NODE_CIDR": "198.18.250.0/24",
        "DRAFARM_SERVICE_CIDR": "198.19.250.0/24",
        "DRAFARM_ETCD_PORT": str(blocker.getsockname()[1]),
        "DRAFARM_ETCD_PEER_PORT": "23850",
        "DRAFARM_APISERVER_PORT": "16450",
        "DRAFARM_CONTROLLER_MANAGER_PORT": "10357",
        "DRAFARM_SCHEDULER_PORT": "10359",
        "DRAFARM_KUBELET_PORT": "10350",
        "DRAFARM_KUBELET_HEALTHZ_PORT": "10348",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    broken = LocalProvider(
        k8s_version=local_cluster.cfg.pins.kubernetes, cluster_name="e2efail", state_dir=tmp_path / "e2efail"
    )
    try:
        with pytest.raises(ClusterError) as failure:
            broken.up()
    finally:
        blocker.close()
    message = str(failure.value)
    assert "etcd exited" in message
    assert "address already in use" in message
    assert "likely fix: another process holds this port" in message
    assert broken.leftovers() == []
    assert local_cluster.status().running
