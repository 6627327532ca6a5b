"""What a failed kind `up` prints: each node's state and log tails, and the likely fix."""

from __future__ import annotations

from clusters.host import docker_cli
from clusters.host.docker_cli import Endpoint

TAIL_LINES = 25

_HINTS = (
    (
        "unable to apply caps",
        "docker cannot run privileged containers here: the capability bounding set lacks one docker grants; "
        "let drafarm start its own dockerd (stop the other daemon, unset DOCKER_HOST), which adds a runc wrapper",
    ),
    (
        "could not find a log line that matches",
        "a node's entrypoint or systemd did not start: see the node's `docker logs` below",
    ),
    (
        "failed to init node with kubeadm",
        "kubeadm init failed on the control plane: see its kubelet journal below "
        "(image not imported, kubelet refused the host's cgroups, ...)",
    ),
    (
        "failed to join node with kubeadm",
        "a worker could not join: see its kubelet journal below",
    ),
    (
        "is already in use by container",
        "a container of an earlier cluster of this name remains: `drafarm cluster down --provider kind`",
    ),
)


def hint(output: str) -> str:
    for needle, text in _HINTS:
        if needle in output:
            return f"likely fix: {text}"
    return ""


def _tail(endpoint: Endpoint, *args: str) -> str:
    proc = docker_cli.run(endpoint, *args, check=False, timeout=60)
    text = (proc.stdout + proc.stderr).strip()
    return "\n".join("    " + line for line in text.splitlines()[-TAIL_LINES:])


def node_tails(endpoint: Endpoint, nodes: list[str]) -> str:
    """For each node container: its state, the end of its console log and of its kubelet journal."""
    parts = []
    for node in nodes:
        state = docker_cli.run(endpoint, "inspect", "-f", "{{.State.Status}}", node, check=False).stdout.strip()
        parts.append(f"node {node} ({state or 'gone'}): console (docker logs):\n{_tail(endpoint, 'logs', node)}")
        if state == "running":
            journal = _tail(endpoint, "exec", node, "journalctl", "-u", "kubelet", "--no-pager", "-n", str(TAIL_LINES))
            parts.append(f"node {node}: kubelet journal:\n{journal}")
    return "\n".join(parts)
