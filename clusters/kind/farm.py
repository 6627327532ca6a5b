"""The farm on a kind cluster: farm nodes bound to workers in order, and how the harness reaches each
node's plugin (a pod of the driver DaemonSet).

The plugin's control socket and the node's CDI directory live in the node container's own `/run`;
this host reaches them through `/proc/<node container's PID>/root` (root only), looked up at each use
because a restarted node container has a new PID.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clusters.host import docker_cli
from clusters.host.docker_cli import Endpoint
from clusters.provider import ClusterError, FarmDeployment, FarmNode
from fakedevices.kinds.network import addresses_reached_from, device_networks
from fakedevices.model import Farm
from fakedevices.plugin.control_client import ControlError, PluginControl, UnixSocketTransport
from fakedevices.plugin.control_protocol import Message
from fakedevices.plugin.layout import DYNAMIC_CDI_DIR, control_socket_in, node_state_dir

# /var/run is a symlink to /run in the node; resolved here, since /proc/<pid>/root does not.
NODE_CDI_DIR = Path("/run") / DYNAMIC_CDI_DIR.relative_to("/var/run")


def node_map(farm: Farm, workers: list[str]) -> dict[str, str]:
    """{kube node: farm node}: the farm's nodes on the workers in order (as many as both have)."""
    return {kube: node.name for kube, node in zip(workers, farm.nodes, strict=False)}


def camera_addresses(farm: Farm, farm_node: str) -> list[str]:
    """The addresses of the network devices (cameras) in pools that `farm_node` reaches."""
    return addresses_reached_from(farm, farm_node)


def node_root(endpoint: Endpoint, container: str) -> Path:
    pid = docker_cli.run(endpoint, "inspect", "-f", "{{.State.Pid}}", container).stdout.strip()
    if not pid.isdigit() or pid == "0":
        raise ClusterError(f"kind node {container} is not running (docker reports pid {pid!r})")
    return Path(f"/proc/{pid}/root")


@dataclass(frozen=True)
class NodeSocketTransport:
    """A plugin's control socket inside a kind node, reached through the node container's root."""

    endpoint: Endpoint
    container: str

    def call(self, message: Message, timeout: float) -> Message:
        try:
            root = node_root(self.endpoint, self.container)
        except ClusterError as exc:
            raise ControlError(str(exc)) from exc
        state_dir = root / node_state_dir(self.container).relative_to("/")
        return UnixSocketTransport(control_socket_in(state_dir)).call(message, timeout)


def deployment(
    endpoint: Endpoint, farm: Farm, mapping: dict[str, str], log_tail: Callable[[str, int], str]
) -> FarmDeployment:
    bound = farm.served_by({f: k for k, f in mapping.items()})

    def tail_of(node: str) -> Callable[[int], str]:
        return lambda lines: log_tail(node, lines)

    nodes = []
    for kube, farm_node in sorted(mapping.items()):
        try:
            cdi: tuple[Path, ...] = (node_root(endpoint, kube) / NODE_CDI_DIR.relative_to("/"),)
        except (ClusterError, docker_cli.DockerError):
            cdi = ()
        nodes.append(
            FarmNode(
                farm_node=farm_node,
                kube_node=kube,
                control=PluginControl(NodeSocketTransport(endpoint, kube)),
                log_tail=tail_of(kube),
                cdi_dirs=cdi,
            )
        )
    return FarmDeployment(bound, tuple(nodes))


def device_network_commands() -> list[list[str]]:
    """What every node runs so its pods reach no network device (camera) address but through a pool network
    the node is attached to (`device_hosts.py`): rather than sent to the docker host, which may serve a local
    cluster's cameras on the same addresses, every address of those networks is unreachable; a pool
    network's own route, more specific, wins on that pool's nodes."""
    return [["ip", "route", "replace", "unreachable", network] for network in device_networks()]


def set_device_network(endpoint: Endpoint, container: str) -> None:
    for command in device_network_commands():
        docker_cli.run(endpoint, "exec", container, *command)


def pod_on(pods: dict[str, Any], node: str) -> dict[str, Any] | None:
    for pod in pods.get("items", []):
        if pod.get("spec", {}).get("nodeName") == node:
            return dict(pod)
    return None


def run_ok(proc: subprocess.CompletedProcess[str], what: str) -> str:
    if proc.returncode != 0:
        raise ClusterError(f"{what} failed: {(proc.stderr or proc.stdout).strip()[-1500:]}")
    return proc.stdout
