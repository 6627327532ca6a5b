"""A kind cluster's network devices (cameras) as containers, started and stopped with testcontainers.

Each network pool gets a docker network of its own (internal: no route off it), the /24 its devices'
addresses are in; each device runs `python -m fakedevices.remote` from the driver image in a container
of its own, holding the device's address on that network. Only the pool's served nodes are attached to
it (at .200 and up), and they masquerade their pods' traffic to it, so a pod on one of those nodes reaches
the devices and a pod on any other node cannot. Every node's plugin reaches the devices' host control
with the cluster's key (`--network-devices remote`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from clusters.host import docker_cli
from clusters.host.docker_cli import Endpoint
from clusters.kind.bridge_arp import answer_only_own_addresses
from clusters.polling import poll
from clusters.provider import ClusterError
from fakedevices.kinds.network import device_networks, network_addresses
from fakedevices.model import Farm
from fakedevices.remote.ops import CONTROL_PORT

LABEL = "dev.drafarm.device-hosts"  # value: the kind cluster's name
SPEC_LABEL = "dev.drafarm.device-host-spec"  # value: a digest of what the container serves
FIRST_NODE_HOST = 200
KEY_FILE = "network.key"
FARM_IN_CONTAINER = "/etc/drafarm/farm.yaml"
STATE_IN_CONTAINER = "/var/lib/drafarm/device-host"
READY_S = 60.0


@dataclass(frozen=True)
class PoolNetwork:
    pool: str
    network: str
    subnet: ipaddress.IPv4Network
    devices: tuple[tuple[str, str], ...]  # (device, address)
    farm_nodes: tuple[str, ...]

    def node_address(self, index: int) -> str:
        return str(self.subnet.network_address + FIRST_NODE_HOST + index)


def pool_networks(farm: Farm, cluster: str) -> list[PoolNetwork]:
    """The network pools of `farm` whose devices are reached over the network, with their /24."""
    found = []
    for pool in farm.pools:
        devices = tuple((card.name, address) for card, address in network_addresses(pool.inventory.cards))
        if not devices:
            continue
        subnet = ipaddress.ip_network(f"{devices[0][1]}/24", strict=False)
        assert isinstance(subnet, ipaddress.IPv4Network)
        stray = [a for _, a in devices if ipaddress.ip_address(a) not in subnet]
        if stray or len(pool.nodes) > 254 - FIRST_NODE_HOST:
            raise ClusterError(
                f"network pool {pool.name}: devices {stray} are outside {subnet}, or it reaches more than "
                f"{254 - FIRST_NODE_HOST} nodes; a pool's devices must share one /24 on kind"
            )
        found.append(PoolNetwork(pool.name, f"drafarm-{cluster}-{pool.name}", subnet, devices, tuple(pool.nodes)))
    return found


def cluster_key(root: Path) -> str:
    """The cluster's key for the devices' host control (made once, kept with the cluster's state)."""
    path = root / KEY_FILE
    if not path.is_file():
        root.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def node_commands(pool: PoolNetwork) -> list[list[str]]:
    """What a node of the pool runs so its pods' traffic to the devices comes back: masquerade it."""
    rule = ["POSTROUTING", "-d", str(pool.subnet), "-j", "MASQUERADE"]
    return [["sh", "-c", f"iptables -t nat -C {' '.join(rule)} 2>/dev/null || iptables -t nat -A {' '.join(rule)}"]]


def _network(endpoint: Endpoint, pool: PoolNetwork, cluster: str) -> None:
    if docker_cli.run(endpoint, "network", "inspect", pool.network, check=False).returncode != 0:
        _create_network(endpoint, pool, cluster)
    answer_only_own_addresses(endpoint, pool.network)


def _create_network(endpoint: Endpoint, pool: PoolNetwork, cluster: str) -> None:
    created = docker_cli.run(
        endpoint,
        "network", "create", "--driver=bridge", "--internal",
        f"--subnet={pool.subnet}", f"--gateway={pool.subnet.network_address + 254}",
        "--opt=com.docker.network.bridge.enable_ip_masquerade=false",
        f"--label={LABEL}={cluster}",
        pool.network,
        check=False,
    )  # fmt: skip
    if created.returncode != 0:
        hint = ""
        if "overlap" in created.stderr:
            hint = (
                " (another docker network has that range: most likely another kind cluster serving cameras at the "
                "same addresses; take it down with `drafarm cluster down --provider kind --name NAME`)"
            )
        raise ClusterError(
            f"network pool {pool.pool}: creating docker network {pool.network} on {pool.subnet} failed{hint}: "
            f"{created.stderr.strip()[-500:]}"
        )


def _attach(endpoint: Endpoint, pool: PoolNetwork, kube_nodes: list[str]) -> None:
    """Join the nodes to the pool's network. docker refuses an address a route of the node's covers, so the
    node's unreachable route for the devices' range (set again by the caller) goes first."""
    attached = docker_cli.run(endpoint, "network", "inspect", "-f", "{{json .Containers}}", pool.network).stdout
    for index, node in enumerate(kube_nodes):
        if f'"Name":"{node}"' not in attached.replace(" ", ""):
            for network in device_networks():
                docker_cli.run(endpoint, "exec", node, "ip", "route", "del", "unreachable", network, check=False)
            docker_cli.run(endpoint, "network", "connect", "--ip", pool.node_address(index), pool.network, node)
        for command in node_commands(pool):
            docker_cli.run(endpoint, "exec", node, *command)


def _spec_digest(image: str, farm_path: Path, seed: int, key: str, device: str) -> str:
    text = f"{image}\n{farm_path.read_text()}\n{seed}\n{key}\n{device}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _start_device(
    endpoint: Endpoint, pool: PoolNetwork, device: str, address: str, cluster: str, settings: DeviceHostSettings
) -> None:
    from docker.types import EndpointConfig
    from testcontainers.core.config import testcontainers_config
    from testcontainers.core.container import DockerContainer

    testcontainers_config.ryuk_disabled = True  # its reaper image cannot be pulled here; `down` removes ours
    name = f"drafarm-{cluster}-{device}"
    digest = _spec_digest(settings.image, settings.farm_path, settings.seed, settings.key, device)
    found = docker_cli.run(
        endpoint,
        "inspect",
        "-f",
        f'{{{{index .Config.Labels "{SPEC_LABEL}"}}}} {{{{.State.Running}}}}',
        name,
        check=False,
    )
    if found.returncode == 0 and found.stdout.split() == [digest, "true"]:
        return
    docker_cli.run(endpoint, "rm", "--force", name, check=False)
    state = settings.state_root / device
    state.mkdir(parents=True, exist_ok=True)
    command = [
        "python3", "-m", "fakedevices.remote", "--farm", FARM_IN_CONTAINER, "--seed", str(settings.seed),
        "--pool", pool.pool, "--device", device, "--state-dir", STATE_IN_CONTAINER,
    ]  # fmt: skip
    container = (
        DockerContainer(settings.image, docker_client_kw={"environment": {"DOCKER_HOST": endpoint.host}})
        .with_name(name)
        .with_command(command)
        .with_env("DRAFARM_NETWORK_KEY", settings.key)
        .with_volume_mapping(str(settings.farm_path), FARM_IN_CONTAINER, "ro")
        .with_volume_mapping(str(state), STATE_IN_CONTAINER, "rw")
        .with_kwargs(
            network=pool.network,
            networking_config={pool.network: EndpointConfig("1.44", ipv4_address=address)},
            labels={LABEL: cluster, SPEC_LABEL: digest},
            restart_policy={"Name": "unless-stopped"},
        )
    )
    container.start()

    def ready() -> bool:
        return '"ready": true' in docker_cli.run(endpoint, "logs", name, check=False).stdout

    if not poll(ready, READY_S, 0.2):
        logs = docker_cli.run(endpoint, "logs", "--tail", "20", name, check=False)
        raise ClusterError(
            f"device host {name} ({address}:{CONTROL_PORT}) did not get ready in {READY_S:.0f} s:\n"
            f"{(logs.stdout + logs.stderr).strip()[-1500:]}"
        )


@dataclass(frozen=True)
class DeviceHostSettings:
    image: str
    farm_path: Path
    seed: int
    key: str
    state_root: Path


def deploy(
    endpoint: Endpoint,
    cluster: str,
    farm: Farm,
    mapping: Mapping[str, str],
    settings: DeviceHostSettings,
    step: Callable[[str], None],
) -> list[PoolNetwork]:
    """Networks, attached nodes and one device host per network device; idempotent. `mapping` is
    {kube node: farm node} of the served nodes. The nodes' routes for the devices' range are set after."""
    kube_of = {farm_node: kube for kube, farm_node in mapping.items()}
    pools = pool_networks(farm, cluster)
    for pool in pools:
        served = sorted(kube_of[n] for n in pool.farm_nodes if n in kube_of)
        step(f"network pool {pool.pool}: {len(pool.devices)} device host(s) on {pool.subnet}, nodes {served or 'none'}")
        _network(endpoint, pool, cluster)
        _attach(endpoint, pool, served)
        for device, address in pool.devices:
            _start_device(endpoint, pool, device, address, cluster, settings)
    return pools


def remove(endpoint: Endpoint, cluster: str) -> None:
    """Every device host container and pool network of `cluster`."""
    for name in docker_cli.lines(endpoint, "ps", "-aq", "--filter", f"label={LABEL}={cluster}"):
        docker_cli.run(endpoint, "rm", "--force", "--volumes", name, check=False)
    for net in docker_cli.lines(endpoint, "network", "ls", "-q", "--filter", f"label={LABEL}={cluster}"):
        docker_cli.run(endpoint, "network", "rm", net, check=False)


def leftovers(endpoint: Endpoint, cluster: str) -> list[str]:
    found = [
        f"device host {c}" for c in docker_cli.lines(endpoint, "ps", "-aq", "--filter", f"label={LABEL}={cluster}")
    ]
    nets = docker_cli.lines(endpoint, "network", "ls", "-q", "--filter", f"label={LABEL}={cluster}")
    return found + [f"pool network {n}" for n in nets]
