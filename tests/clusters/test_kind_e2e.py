"""End to end on a real kind cluster (real docker, kind, kubelets): four nodes Ready, pods on different
nodes reach each other directly and through a Service, docker adds no iptables rule to the host, the
farm's driver DaemonSet registers with every worker's kubelet and a pod gets a fake GPU through a claim,
a pool's cameras are reachable from its nodes only, and `down` leaves no container, network, volume, mount
or link behind.

Opt-in until it is reliable and fast enough for `make test`: set DRAFARM_KIND_E2E=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from clusters.host import docker_cli, dockerd
from clusters.images import catalog
from clusters.kind.config import NODE_SUBNETS
from clusters.kind.farm import camera_addresses
from clusters.kind.provider import KindProvider
from clusters.provider import ClusterError
from clusters.toolchain import lookup
from fakedevices.farm import open_farm
from fakedevices.kinds.camera.device import CAMERA_PORT
from tests.polling import wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("DRAFARM_KIND_E2E"), reason="kind e2e is opt-in: DRAFARM_KIND_E2E=1"),
    pytest.mark.skipif(os.geteuid() != 0, reason="drafarm's dockerd and debootstrap need root"),
]

SERVER = """\
mkdir -p /w && echo "hello from $(hostname)" > /w/index.html && exec httpd -f -p 8080 -h /w
"""
CLAIM_OBJECTS = """\
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: e2e-kind-gpu}
spec:
  selectors:
  - cel: {expression: 'device.driver == "drafarm.dev" && device.attributes["drafarm.dev"].type == "gpu"'}
---
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: gpu}
spec:
  devices:
    requests:
    - name: gpu
      exactly: {deviceClassName: e2e-kind-gpu}
---
apiVersion: v1
kind: Pod
metadata: {name: gpu}
spec:
  restartPolicy: Never
  resourceClaims: [{name: gpu, resourceClaimName: gpu}]
  containers:
  - name: c
    image: drafarm.local/workload:1
    imagePullPolicy: Never
    command: ["sh", "-c", "env; exec sleep 600"]
    resources: {claims: [{name: gpu}]}
"""
PROBE = """\
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5).close()
    print("open")
except OSError as exc:
    print("closed", exc)
"""
CLIENT = """\
import sys, urllib.request
for url in sys.argv[1:]:
    print(url, urllib.request.urlopen(url, timeout=10).read().decode().strip())
"""


def _kubectl(provider: KindProvider, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    kubectl = lookup.binaries(provider.settings.pins, build_missing=False)["kubectl"]
    return subprocess.run(
        [str(kubectl), f"--kubeconfig={provider.kubeconfig()}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _pod(name: str, node: str, command: list[str], labels: dict[str, str] | None = None) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "nodeName": node,
            "restartPolicy": "Never",
            "containers": [
                {"name": "c", "image": catalog.WORKLOAD.ref, "imagePullPolicy": "Never", "command": command}
            ],
        },
    }


def _phase(provider: KindProvider, name: str) -> str:
    return _kubectl(provider, "get", "pod", name, "-o", "jsonpath={.status.phase}").stdout


def _host_rules() -> str:
    proc = subprocess.run(["iptables-save"], capture_output=True, text=True, timeout=60)
    return "\n".join(line for line in proc.stdout.splitlines() if not line.startswith(("#", ":")))


def _ours(rules: str, bridges: list[str]) -> list[str]:
    """Host rules that mention docker, drafarm's dockerd, or the kind network (there must be none)."""
    marks = ["DOCKER", dockerd.BRIDGE, str(NODE_SUBNETS.network_address)[:-2], *bridges]
    return [line for line in rules.splitlines() if any(m in line for m in marks)]


def test_four_nodes_pods_across_nodes_the_farm_driver_cameras_and_a_clean_down(tmp_path: Path) -> None:
    name = f"e2e{uuid.uuid4().hex[:6]}"
    provider = KindProvider(cluster_name=name, workers=3, state_dir=tmp_path / "state")
    try:
        status = provider.up()
        endpoint = dockerd.find()
        assert endpoint is not None
        assert status.running, status

        # -- every node Ready ------------------------------------------------------------------------
        nodes = json.loads(_kubectl(provider, "get", "nodes", "-o", "json").stdout)["items"]
        ready = {
            n["metadata"]["name"]: any(
                c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"]
            )
            for n in nodes
        }
        assert ready == {f"{name}-control-plane": True, **{f"{name}-worker{s}": True for s in ("", "2", "3")}}

        # -- what `down` must remove: the nodes' volumes and the network's bridge --------------------
        containers = provider.nodes()
        volumes = [
            m["Name"]
            for c in json.loads(docker_cli.run(endpoint, "inspect", *containers).stdout)
            for m in c["Mounts"]
            if m.get("Type") == "volume"
        ]
        assert volumes, "kind nodes keep /var on a volume"
        net_id = docker_cli.run(endpoint, "network", "inspect", "-f", "{{.Id}}", provider.settings.network).stdout
        bridge = f"br-{net_id.strip()[:12]}"
        if endpoint.ours:
            assert not _ours(_host_rules(), [bridge]), "drafarm's dockerd added iptables rules on the host"

        # -- pods on different nodes: by pod IP, and through a Service by its DNS name ----------------
        provider.load_image(catalog.build(catalog.WORKLOAD))
        server = _pod("srv", f"{name}-worker", ["sh", "-c", SERVER], {"app": "srv"})
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "srv"},
            "spec": {"selector": {"app": "srv"}, "ports": [{"port": 80, "targetPort": 8080}]},
        }
        for obj in (server, service):
            applied = _kubectl(provider, "apply", "-f", "-", stdin=json.dumps(obj))
            assert applied.returncode == 0, applied.stderr
        wait_for(lambda: _phase(provider, "srv") == "Running", 90, "the server pod", lambda: _phase(provider, "srv"))
        ip = _kubectl(provider, "get", "pod", "srv", "-o", "jsonpath={.status.podIP}").stdout
        urls = [f"http://{ip}:8080/", "http://srv.default.svc.cluster.local/"]
        client = _pod("cli", f"{name}-worker2", ["python3", "-c", CLIENT, *urls])
        applied = _kubectl(provider, "apply", "-f", "-", stdin=json.dumps(client))
        assert applied.returncode == 0, applied.stderr
        phase = wait_for(
            lambda: (p := _phase(provider, "cli")) in ("Succeeded", "Failed") and p,
            90,
            "the client pod to finish",
            lambda: _phase(provider, "cli"),
        )
        logs = _kubectl(provider, "logs", "cli").stdout
        assert phase == "Succeeded", logs
        assert logs.count("hello from srv") == 2, logs

        # -- the farm's driver as a DaemonSet: registered on both workers, a claim gets a GPU -----------
        deployment = provider.deploy_farm(open_farm("mixed"))
        served = {n.kube_node: n.farm_node for n in deployment.nodes}
        assert served == {
            f"{name}-worker": "gpu-large-0",
            f"{name}-worker2": "gpu-large-1",
            f"{name}-worker3": "gpu-small-0",
        }
        for node in deployment.nodes:
            assert node.control.status().node == node.kube_node
            assert "kubelet registered driver" in node.log_tail(200)
        applied = _kubectl(provider, "apply", "-f", "-", stdin=CLAIM_OBJECTS)
        assert applied.returncode == 0, applied.stderr
        logs = wait_for(
            lambda: "DRAFARM_GPU_0_UUID=GPU-" in (out := _kubectl(provider, "logs", "gpu").stdout) and out,
            120,
            "the pod with a GPU claim to print its device's env",
            lambda: _phase(provider, "gpu") + " " + _kubectl(provider, "describe", "pod", "gpu").stdout[-1500:],
        )
        assert _phase(provider, "gpu") == "Running", logs
        gpu_node = _kubectl(provider, "get", "pod", "gpu", "-o", "jsonpath={.spec.nodeName}").stdout
        assert gpu_node in served
        cdi = deployment.node(gpu_node).cdi_dirs
        assert cdi and any(cdi[0].glob("*.json")), "the claim's CDI spec is on the node while the claim is prepared"

        # -- a pool's cameras: reachable from its nodes' pods, not from a node outside the pool ------------
        (camera, *_) = camera_addresses(open_farm("mixed").farm, "gpu-large-0")  # pool "dock": gpu-large-*
        assert camera not in camera_addresses(open_farm("mixed").farm, "gpu-small-0")
        # outside: refused at once by the node's unreachable route (not a timeout, nor the docker host answering)
        outside = "closed [Errno 113] No route to host"
        for pod, node, expect in (("in-pool", f"{name}-worker", "open"), ("outside", f"{name}-worker3", outside)):
            probe = _pod(pod, node, ["python3", "-c", PROBE, camera, str(CAMERA_PORT)])
            applied = _kubectl(provider, "apply", "-f", "-", stdin=json.dumps(probe))
            assert applied.returncode == 0, applied.stderr
            wait_for(
                lambda p=pod: _phase(provider, p) in ("Succeeded", "Failed"),
                90,
                f"the {pod} probe to finish",
                lambda p=pod: _phase(provider, p),
            )
            out = _kubectl(provider, "logs", pod).stdout
            assert out.startswith(expect), (pod, node, out)

        # -- logs for the report: kind export logs -------------------------------------------------------
        written = provider.collect_logs(tmp_path / "logs")
        assert any(p.name == "kubelet.log" and f"{name}-worker3" in p.parts for p in written), written[:20]
    finally:
        provider.down()

    # -- down left nothing -----------------------------------------------------------------------------
    assert provider.leftovers() == []
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, timeout=30).stdout
    assert bridge not in links
    if endpoint.ours:
        assert not _ours(_host_rules(), [bridge])
    lay = dockerd.layout()
    still = dockerd.find()
    if still is not None:
        left = [v for v in volumes if docker_cli.run(still, "volume", "inspect", v, check=False).returncode == 0]
        assert not left, f"volumes left: {left}"
        assert not docker_cli.lines(still, "ps", "-aq", "--filter", f"label=io.x-k8s.kind.cluster={name}")
    else:
        assert not [v for v in volumes if (lay.data_root / "volumes" / v).exists()]
        assert dockerd.BRIDGE not in links
    mounts = Path("/proc/self/mountinfo").read_text()
    assert not [c for c in containers if c in mounts]
    assert not [v for v in volumes if v in mounts]


def test_a_failed_up_shows_the_nodes_console_and_takes_everything_down(tmp_path: Path) -> None:
    # A real image that is no kind node: its container exits at once, so kind never sees systemd start.
    endpoint = dockerd.ensure()
    archive = catalog.build(catalog.WORKLOAD)
    docker_cli.run(endpoint, "load", "--input", str(archive), timeout=300)
    provider = KindProvider(
        cluster_name=f"e2efail{uuid.uuid4().hex[:4]}", workers=0, image=catalog.WORKLOAD.ref, state_dir=tmp_path
    )
    with pytest.raises(ClusterError) as failed:
        provider.up()
    message = str(failed.value)
    assert "kind create cluster" in message
    assert f"node {provider.settings.control_plane}" in message, message
    assert provider.leftovers() == []


def test_an_image_missing_from_docker_is_named_not_pulled(tmp_path: Path) -> None:
    provider = KindProvider(cluster_name="e2enopull", workers=0, image="drafarm.local/absent:0", state_dir=tmp_path)
    with pytest.raises(ClusterError, match="never pulls"):
        provider.up()
    assert provider.leftovers() == []
