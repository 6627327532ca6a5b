"""Settings of one kind cluster, and the kind configuration file rendered from them and from the host.

Network (all inside 198.18.0.0/15, none overlapping the local provider's ranges or dockerd's own):
the nodes' docker network gets the first free /24 of 198.18.160.0/21 (`DRAFARM_KIND_SUBNET` pins
one); pods get a /24 per node from 198.18.192.0/20; services 198.18.176.0/24. Pod and service
addresses live only inside the node containers. kind's default CNI (kindnetd) is disabled: the
provider writes our own bridge config on every node and routes between the nodes' pod CIDRs.

What the host needs is detected, never assumed: `restrict_oom_score_adj` for containerd where a
negative oom_score_adj cannot be written, `failCgroupV1: false` for the kubelet on cgroup v1.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field

import yaml

from clusters.host.detect import HostFacts
from clusters.toolchain import versions
from clusters.toolchain.versions import ToolPins

NAME_ENV = "DRAFARM_CLUSTER_NAME"
DEFAULT_NAME = "kind"
WORKERS_ENV = "DRAFARM_KIND_NODES"
IMAGE_ENV = "DRAFARM_KIND_IMAGE"
SUBNET_ENV = "DRAFARM_KIND_SUBNET"
PROJECT_RANGE = ipaddress.IPv4Network("198.18.0.0/15")
NODE_SUBNETS = ipaddress.IPv4Network("198.18.160.0/21")
POD_SUBNET = ipaddress.IPv4Network("198.18.192.0/20")
SERVICE_SUBNET = ipaddress.IPv4Network("198.18.176.0/24")
MAX_WORKERS = 2 ** (24 - POD_SUBNET.prefixlen) - 1
_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")


class KindConfigError(ValueError):
    """A kind setting that cannot work; the message names it and the fix."""


@dataclass(frozen=True)
class KindSettings:
    name: str
    pins: ToolPins
    workers: int
    image: str = ""
    """A node image to use as is (e.g. kindest/node:v1.36.3 where a registry is reachable); empty:
    drafarm's offline image for `pins`."""
    gates: dict[str, bool] = field(default_factory=dict)

    @property
    def network(self) -> str:
        return f"drafarm-{self.name}"

    @property
    def control_plane(self) -> str:
        return f"{self.name}-control-plane"

    def worker_names(self) -> list[str]:
        """kind's names for the workers: <name>-worker, <name>-worker2, ..."""
        return [f"{self.name}-worker{'' if i == 1 else i}" for i in range(1, self.workers + 1)]


def load(
    k8s_version: str | None = None,
    cluster_name: str | None = None,
    workers: int | None = None,
    image: str | None = None,
    gates: dict[str, bool] | None = None,
) -> KindSettings:
    name = cluster_name or os.environ.get(NAME_ENV) or DEFAULT_NAME
    if not _NAME_RE.match(name):
        raise KindConfigError(
            f"cluster name {name!r} does not suit kind (lowercase letters, digits and '-', at most 32); pick another"
        )
    try:
        pins = versions.resolve(k8s_version)
    except versions.VersionError as exc:
        raise KindConfigError(str(exc)) from exc
    if workers is None:
        raw = os.environ.get(WORKERS_ENV, "1")
        try:
            workers = int(raw)
        except ValueError:
            raise KindConfigError(f"{WORKERS_ENV}={raw!r} is not a number of worker nodes") from None
    if not 0 <= workers <= MAX_WORKERS:
        raise KindConfigError(
            f"{workers} worker nodes: choose 0 to {MAX_WORKERS} (the pod range {POD_SUBNET} holds a /24 per node)"
        )
    return KindSettings(name, pins, workers, image or os.environ.get(IMAGE_ENV, ""), dict(gates or {}))


def pick_subnet(in_use: list[str], pinned: str | None = None) -> ipaddress.IPv4Network:
    """The nodes' docker network: `pinned` if given, else the first /24 of NODE_SUBNETS no network uses."""
    if pinned:
        net = ipaddress.ip_network(pinned, strict=True)
        if not isinstance(net, ipaddress.IPv4Network) or not net.subnet_of(PROJECT_RANGE):
            raise KindConfigError(f"{SUBNET_ENV}={pinned!r} must be an IPv4 network inside 198.18.0.0/15")
        return net
    used = [ipaddress.ip_network(s, strict=False) for s in in_use if ":" not in s]
    for candidate in NODE_SUBNETS.subnets(new_prefix=24):
        if not any(candidate.overlaps(u) for u in used):
            return candidate
    raise KindConfigError(f"every /24 of {NODE_SUBNETS} is taken by a docker network; remove one or set {SUBNET_ENV}")


def _containerd_patch(facts: HostFacts) -> str | None:
    if facts.can_lower_oom_score_adj:
        return None
    return '[plugins."io.containerd.cri.v1.runtime"]\n  restrict_oom_score_adj = true\n'


# The kubelet retries a pod whose claims failed to prepare at its next sync: every 10 s, as on the local
# cluster, instead of kubeadm's default minute (a transient prepare failure then costs seconds, not minutes).
SYNC_FREQUENCY = "10s"


def _kubeadm_patches(facts: HostFacts) -> list[str]:
    kubelet: dict[str, object] = {"kind": "KubeletConfiguration", "syncFrequency": SYNC_FREQUENCY}
    if facts.cgroup_version == 1:
        kubelet["failCgroupV1"] = False
    return [yaml.safe_dump(kubelet, sort_keys=True)]


def render(settings: KindSettings, image: str, facts: HostFacts) -> str:
    """The kind `Cluster` config: one control plane and `settings.workers` workers on `image`."""
    nodes: list[dict[str, object]] = [{"role": "control-plane", "image": image}]
    nodes += [{"role": "worker", "image": image} for _ in range(settings.workers)]
    config: dict[str, object] = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": settings.name,
        "networking": {
            "disableDefaultCNI": True,
            "podSubnet": str(POD_SUBNET),
            "serviceSubnet": str(SERVICE_SUBNET),
            "apiServerAddress": "127.0.0.1",
            "kubeProxyMode": "iptables",
        },
        "nodes": nodes,
    }
    if settings.gates:
        config["featureGates"] = dict(sorted(settings.gates.items()))
        config["runtimeConfig"] = {"api/all": "true"}
    patch = _containerd_patch(facts)
    if patch:
        config["containerdConfigPatches"] = [patch]
    config["kubeadmConfigPatches"] = _kubeadm_patches(facts)
    return yaml.safe_dump(config, sort_keys=False)
