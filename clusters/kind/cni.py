"""Pod networking across kind nodes without kindnetd: a bridge per node on its pod CIDR, plus routes.

Each node's pods sit on bridge `cni0` in the node's /24 (assigned by the controller-manager, read from
`spec.podCIDR`); every node routes each other node's /24 to that node's address on the docker network.
The CNI plugins (bridge, host-local, loopback, portmap) are the toolchain's, in the node image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from clusters.host import docker_cli
from clusters.host.docker_cli import Endpoint

CONFLIST = "/etc/cni/net.d/10-drafarm.conflist"


@dataclass(frozen=True)
class NodeNet:
    name: str
    address: str
    pod_cidr: str


def node_nets(nodes_json: dict[str, Any]) -> list[NodeNet]:
    """Each node's InternalIP and pod CIDR from `kubectl get nodes -o json` (nodes without one are left out)."""
    found = []
    for item in nodes_json.get("items", []):
        name = item["metadata"]["name"]
        cidr = (item.get("spec") or {}).get("podCIDR", "")
        addresses = (item.get("status") or {}).get("addresses") or []
        address = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "")
        if cidr and address:
            found.append(NodeNet(name, address, cidr))
    return found


def conflist(pod_cidr: str) -> str:
    conf = {
        "cniVersion": "1.0.0",
        "name": "drafarm-kind",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": pod_cidr}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(conf, indent=2) + "\n"


def routes_for(node: NodeNet, all_nodes: list[NodeNet]) -> list[list[str]]:
    """`ip route replace` commands that send every other node's pod CIDR to that node."""
    return [
        ["ip", "route", "replace", other.pod_cidr, "via", other.address]
        for other in all_nodes
        if other.name != node.name
    ]


def install(endpoint: Endpoint, nodes: list[NodeNet]) -> None:
    """Write the CNI config on every node and the routes between them (idempotent)."""
    for node in nodes:
        script = f"mkdir -p /etc/cni/net.d && cat > {CONFLIST}.tmp && mv {CONFLIST}.tmp {CONFLIST}"
        docker_cli.run(endpoint, "exec", "-i", node.name, "sh", "-c", script, timeout=60, stdin=conflist(node.pod_cidr))
        for route in routes_for(node, nodes):
            docker_cli.run(endpoint, "exec", node.name, *route, timeout=60)
