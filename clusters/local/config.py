"""The settings of one local cluster: defaults, environment overrides, and validation.

Every network lies inside 198.18.0.0/15 (the project's benchmarking range); ports and paths can be
overridden with `DRAFARM_*` variables so two machines never need the same values.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from clusters import paths
from clusters.toolchain import versions

ALLOWED_V4 = ipaddress.IPv4Network("198.18.0.0/15")
ALLOWED_NETWORK = ALLOWED_V4
_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")


class ConfigError(ValueError):
    """A setting with a bad value: the message names the field, the value and the fix."""


@dataclass(frozen=True)
class Ports:
    etcd_client: int = 23790
    etcd_peer: int = 23800
    apiserver: int = 6443
    controller_manager: int = 10257
    scheduler: int = 10259
    kubelet: int = 10250
    kubelet_healthz: int = 10248
    plugin_metrics: int = 10290


@dataclass(frozen=True)
class LocalConfig:
    name: str
    pins: versions.ToolPins
    state_dir: Path
    node_name: str
    bridge: str
    node_cidr: ipaddress.IPv4Network
    service_cidr: ipaddress.IPv4Network
    ports: Ports = field(default_factory=Ports)

    @property
    def node_ip(self) -> str:
        """The host's address on the cluster bridge: node IP, apiserver address, pods' gateway."""
        return str(next(self.node_cidr.hosts()))

    @property
    def kubernetes_service_ip(self) -> str:
        return str(next(self.service_cidr.hosts()))

    @property
    def apiserver_url(self) -> str:
        return f"https://{self.node_ip}:{self.ports.apiserver}"

    @property
    def minor(self) -> int:
        return self.pins.minor


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number; set it to an integer 1-65535") from None
    if not 0 < value < 65536:
        raise ConfigError(f"{name}={value} is outside 1-65535; choose a free port in that range")
    return value


def parse_network(field_name: str, value: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ConfigError(f"{field_name}={value!r} is not a network ({exc}); use a form like 198.18.0.0/24") from None
    if not isinstance(net, ipaddress.IPv4Network) or not net.subnet_of(ALLOWED_V4):
        raise ConfigError(
            f"{field_name}={value!r} is outside {ALLOWED_NETWORK}; drafarm only creates networks in that "
            "range (e.g. 198.18.0.0/24 for nodes, 198.19.0.0/24 for services)"
        )
    if net.prefixlen > 28:
        raise ConfigError(f"{field_name}={value!r} is too small; use a /28 or larger")
    return net


def load(
    k8s_version: str | None = None,
    name: str | None = None,
    state_dir: Path | None = None,
) -> LocalConfig:
    """Configuration from arguments, then `DRAFARM_*`/`K8S_VERSION` variables, then defaults."""
    cluster_name = name or os.environ.get("DRAFARM_CLUSTER_NAME", "drafarm")
    if not _NAME_RE.match(cluster_name):
        raise ConfigError(
            f"cluster name {cluster_name!r} must be 1-32 lowercase letters, digits or '-' "
            "(set --name or DRAFARM_CLUSTER_NAME)"
        )
    try:
        pins = versions.resolve(k8s_version if k8s_version else os.environ.get(versions.VERSION_ENV))
    except versions.VersionError as exc:
        raise ConfigError(str(exc)) from None
    node_cidr = parse_network("DRAFARM_NODE_CIDR", os.environ.get("DRAFARM_NODE_CIDR", "198.18.0.0/24"))
    service_cidr = parse_network("DRAFARM_SERVICE_CIDR", os.environ.get("DRAFARM_SERVICE_CIDR", "198.19.0.0/24"))
    if node_cidr.overlaps(service_cidr):
        raise ConfigError(
            f"DRAFARM_NODE_CIDR={node_cidr} overlaps DRAFARM_SERVICE_CIDR={service_cidr}; choose disjoint ranges"
        )
    bridge = os.environ.get("DRAFARM_BRIDGE", f"dfarm-{cluster_name}"[:15])
    if not re.match(r"^[A-Za-z0-9_.-]{1,15}$", bridge):
        raise ConfigError(f"DRAFARM_BRIDGE={bridge!r} is not a valid interface name (1-15 of A-Za-z0-9_.-)")
    ports = Ports(
        etcd_client=_env_int("DRAFARM_ETCD_PORT", Ports.etcd_client),
        etcd_peer=_env_int("DRAFARM_ETCD_PEER_PORT", Ports.etcd_peer),
        apiserver=_env_int("DRAFARM_APISERVER_PORT", Ports.apiserver),
        controller_manager=_env_int("DRAFARM_CONTROLLER_MANAGER_PORT", Ports.controller_manager),
        scheduler=_env_int("DRAFARM_SCHEDULER_PORT", Ports.scheduler),
        kubelet=_env_int("DRAFARM_KUBELET_PORT", Ports.kubelet),
        kubelet_healthz=_env_int("DRAFARM_KUBELET_HEALTHZ_PORT", Ports.kubelet_healthz),
    )
    used = [p for p in vars(ports).values()]
    if len(set(used)) != len(used):
        raise ConfigError(f"two components were given the same port ({ports}); give each its own port")
    return LocalConfig(
        name=cluster_name,
        pins=pins,
        state_dir=(state_dir or paths.state_root() / cluster_name).resolve(),
        node_name=os.environ.get("DRAFARM_NODE_NAME", f"{cluster_name}-node"),
        bridge=bridge,
        node_cidr=node_cidr,
        service_cidr=service_cidr,
        ports=ports,
    )
