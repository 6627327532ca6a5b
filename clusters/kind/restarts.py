"""Restarting a component inside kind's node containers, as a node's own tools would: systemd units on
every node (containerd, the kubelet), the control plane's static pods' containers (the API server with
etcd) stopped for the kubelet to start again. Running pods keep their containers: containerd's shims
outlive containerd (`KillMode=process`), and a static pod's restart touches no other pod."""

from __future__ import annotations

from clusters.host import docker_cli
from clusters.host.docker_cli import Endpoint

API_SERVER_AND_ETCD = ("kube-apiserver", "etcd")
"""Stopped in this order: the API server's clients see it gone rather than failing on a missing etcd."""
UNITS = ("kubelet", "containerd")


def node_units(endpoint: Endpoint, nodes: list[str], unit: str) -> None:
    """`systemctl restart UNIT` on every node, touching no unit that depends on it (containerd's restart
    would otherwise re-run the node's one-shot image import)."""
    if unit not in UNITS:
        raise ValueError(unit)
    for node in nodes:
        docker_cli.run(endpoint, "exec", node, "systemctl", "restart", "--job-mode=ignore-dependencies", unit)


def control_plane(endpoint: Endpoint, node: str, containers: tuple[str, ...]) -> None:
    """Stop the running containers of these static pods; the node's kubelet starts them again."""
    for name in containers:
        ids = docker_cli.lines(
            endpoint, "exec", node, "crictl", "ps", "-q", "--state", "running", "--name", f"^{name}$"
        )
        for container in ids:
            docker_cli.run(endpoint, "exec", node, "crictl", "stop", "--timeout", "5", container)
