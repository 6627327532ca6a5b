"""The docker network a kind cluster's nodes sit on, created by drafarm with a subnet of its choosing.

kind uses an existing network named by `KIND_EXPERIMENTAL_DOCKER_NETWORK` as it is, so creating it
first is how the nodes' addresses stay inside 198.18.0.0/15. kind never removes it: `down` does.
"""

from __future__ import annotations

import ipaddress
import json
import os

from clusters.host import docker_cli
from clusters.host.docker_cli import Endpoint
from clusters.kind.config import SUBNET_ENV, KindSettings, pick_subnet

CLUSTER_LABEL = "dev.drafarm.kind-cluster"


def subnets_in_use(endpoint: Endpoint) -> list[str]:
    ids = docker_cli.lines(endpoint, "network", "ls", "-q")
    if not ids:
        return []
    out = docker_cli.run(endpoint, "network", "inspect", *ids).stdout
    found = []
    for net in json.loads(out or "[]"):
        for conf in (net.get("IPAM") or {}).get("Config") or []:
            if conf.get("Subnet"):
                found.append(conf["Subnet"])
    return found


def network_subnet(endpoint: Endpoint, name: str) -> ipaddress.IPv4Network | None:
    proc = docker_cli.run(endpoint, "network", "inspect", name, check=False)
    if proc.returncode != 0:
        return None
    for net in json.loads(proc.stdout or "[]"):
        for conf in (net.get("IPAM") or {}).get("Config") or []:
            subnet = ipaddress.ip_network(conf.get("Subnet", ""), strict=False)
            if isinstance(subnet, ipaddress.IPv4Network):
                return subnet
    return None


def ensure(endpoint: Endpoint, settings: KindSettings) -> ipaddress.IPv4Network:
    """The cluster's network (created now if missing); returns its subnet."""
    existing = network_subnet(endpoint, settings.network)
    if existing is not None:
        return existing
    subnet = pick_subnet(subnets_in_use(endpoint), os.environ.get(SUBNET_ENV))
    gateway = next(subnet.hosts())
    docker_cli.run(
        endpoint,
        "network",
        "create",
        "--driver=bridge",
        f"--subnet={subnet}",
        f"--gateway={gateway}",
        "--opt=com.docker.network.bridge.enable_ip_masquerade=false",
        f"--label={CLUSTER_LABEL}={settings.name}",
        settings.network,
    )
    return subnet


def remove(endpoint: Endpoint, settings: KindSettings) -> None:
    if network_subnet(endpoint, settings.network) is not None:
        docker_cli.run(endpoint, "network", "rm", settings.network)
