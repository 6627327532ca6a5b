"""A pool network's bridge answers ARP only for its own addresses.

Linux answers ARP on any interface for any address of the host (`arp_ignore` 0). When this host also
holds a device's address itself (a local cluster serving its cameras on their own addresses, on `lo`),
the host then answers a kind node's ARP for that address on the pool's bridge too, and the node's
connections reach the host instead of the device's container (refused). `arp_ignore` 1 on the bridge
keeps the host to the bridge's own gateway address there."""

from __future__ import annotations

from pathlib import Path

from clusters.host import docker_cli
from clusters.host.docker_cli import Endpoint

CONF = Path("/proc/sys/net/ipv4/conf")


def bridge_of(endpoint: Endpoint, network: str) -> str:
    """The host interface of a docker bridge network (docker names it br-<first 12 of its ID>)."""
    network_id = docker_cli.run(endpoint, "network", "inspect", "-f", "{{.Id}}", network).stdout.strip()
    return f"br-{network_id[:12]}"


def answer_only_own_addresses(endpoint: Endpoint, network: str, conf: Path = CONF) -> str:
    """Set `arp_ignore` 1 on the network's bridge; returns the bridge's name."""
    bridge = bridge_of(endpoint, network)
    (conf / bridge / "arp_ignore").write_text("1\n")
    return bridge
