"""Deploying the fake device farm onto the local cluster: network device addresses, then the plugin process.

The plugin runs as a host process next to the kubelet (`drafarm plugin run`), with the farm's first
node bound to the cluster's node. Network-placed devices (cameras) of the pools that node reaches
listen on their own addresses (198.19.x.y for cameras), put on the host's loopback so pods reach them
through the node.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clusters.local import processes
from clusters.local.config import LocalConfig
from clusters.local.layout import Layout
from clusters.local.virtual import fleets_dir, served_node, virtual_nodes
from clusters.log_tail import log_tail
from clusters.polling import poll
from clusters.provider import PLUGIN as PLUGIN
from clusters.provider import ClusterError, FarmDeployment, FarmNode
from clusters.virtual.control import VirtualNodeControl
from fakedevices.farm import FarmSource, open_farm
from fakedevices.kinds.network import addresses_reached_from
from fakedevices.model import Farm
from fakedevices.plugin import switch_timing
from fakedevices.plugin.control_client import PluginControl
from fakedevices.plugin.layout import (
    ANY_DRIVERS_CDI_SPECS,
    DYNAMIC_CDI_DIR,
    PluginLayout,
    cdi_specs_of,
    node_state_dir,
    registration_socket,
)
from fakedevices.spec.problems import SpecError

CAMERA_LINK = "lo"
REGISTER_TIMEOUT_S = 60.0


def plugin_state_dir(cfg: LocalConfig) -> Path:
    """The plugin's default state dir for the cluster's node, so `drafarm fault --node` finds it."""
    return node_state_dir(cfg.node_name)


def plugin_layout(cfg: LocalConfig, kubelet_root: Path, driver: str) -> PluginLayout:
    return PluginLayout(driver, plugin_state_dir(cfg), kubelet_root)


def reload_farm(path: Path) -> FarmSource:
    """The farm a cluster state file names (deployed by another process), loaded again."""
    try:
        return open_farm(path)
    except SpecError as exc:
        raise ClusterError(f"the deployed farm spec {path} is no longer valid:\n{exc}") from exc


def deployment(cfg: LocalConfig, layout: Layout, source: FarmSource) -> FarmDeployment:
    """The farm's first real node served by this cluster's one node, and its virtual nodes."""
    farm = source.farm
    served = served_node(farm).name
    bound = farm.bind_nodes({served: cfg.node_name})
    log = layout.log(PLUGIN)
    plugin = plugin_layout(cfg, layout.kubelet_root, farm.driver)
    node = FarmNode(
        farm_node=served,
        kube_node=cfg.node_name,
        control=PluginControl.at(plugin.control_socket),
        log_tail=lambda lines: log_tail(log, lines),
        cdi_dirs=(plugin.cdi_dir,),
    )
    kwok_log = fleets_dir(layout) / farm.name / "kwok.log"
    virtual = tuple(
        FarmNode(
            farm_node=n.name,
            kube_node=n.name,
            control=PluginControl(VirtualNodeControl(layout.admin_kubeconfig, n.name, farm.driver)),
            log_tail=lambda lines: log_tail(kwok_log, lines),
        )
        for n in virtual_nodes(source)
    )
    return FarmDeployment(bound, (node,), virtual)


def camera_addresses(farm: Farm, node: str) -> list[str]:
    """The addresses of the network-placed devices (cameras) in the pools `node` reaches."""
    return addresses_reached_from(farm, node)


def add_camera_addresses(addresses: list[str]) -> list[str]:
    """Put each network device address on the host's loopback (as /32), so pods reach it through the node.

    Returns the addresses this call added (to remove on `down`); ones already present are left alone.
    """
    present = _ip("-o", "addr", "show", "dev", CAMERA_LINK).stdout
    added = []
    for address in addresses:
        if f" {address}/32 " not in present:
            _ip("addr", "add", f"{address}/32", "dev", CAMERA_LINK)
            added.append(address)
    return added


def remove_camera_addresses(addresses: list[str]) -> None:
    for address in addresses:
        subprocess.run(
            ["ip", "addr", "del", f"{address}/32", "dev", CAMERA_LINK], capture_output=True, timeout=30, check=False
        )


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise ClusterError(
            f"`ip {' '.join(args)}` failed: {proc.stderr.strip()}; is iproute2 installed, and are we root?"
        )
    return proc


def start_plugin(cfg: LocalConfig, layout: Layout, source: FarmSource, kubelet_root: Path) -> int:
    """Start `drafarm plugin run` for the farm's first node."""
    return processes.start(layout, PLUGIN, plugin_argv(cfg, layout, source, kubelet_root))


def plugin_argv(
    cfg: LocalConfig, layout: Layout, source: FarmSource, kubelet_root: Path, *, instance: str = ""
) -> list[str]:
    """`drafarm plugin run` for the farm's first node (the spec passed as an absolute path: the plugin runs
    in the cluster directory, not where the user named the spec). With `instance`, another instance of it
    to run beside the one `start_plugin` started (an upgrade): its own kubelet sockets, and no metrics port
    (the first one has it)."""
    farm_node = served_node(source.farm).name
    plugin = plugin_layout(cfg, kubelet_root, source.farm.driver)
    argv = [
        sys.executable, "-m", "harness", "plugin", "run",
        "--node", farm_node, "--kube-node", cfg.node_name, "--farm", str(source.path.absolute()),
        "--kubeconfig", str(layout.admin_kubeconfig), "--kubelet-root", str(plugin.kubelet_root),
        "--state-dir", str(plugin.state_dir), "--cdi-dir", str(plugin.cdi_dir), "--camera-hosts", "own-address",
    ]  # fmt: skip
    if instance:
        return [*argv, "--instance", instance]
    return [*argv, "--metrics-port", str(cfg.ports.plugin_metrics)]


def wait_registered(layout: Layout, kubelet_root: Path, driver: str, pid: int) -> None:
    """Wait for the kubelet's NotifyRegistrationStatus, which the plugin logs; fail clearly otherwise."""
    socket = registration_socket(kubelet_root, driver)
    log = layout.log(PLUGIN)
    header = f"==== drafarm: starting {PLUGIN}"

    def registered() -> bool:
        if not processes.alive(pid):
            raise ClusterError(f"the DRA plugin exited during start (log: {log}):\n{log_tail(log, 25, '<no log>')}")
        text = log.read_text(errors="replace").rsplit(header, 1)[-1] if log.exists() else ""
        if f"kubelet registered driver {driver}" in text:
            return True
        if "kubelet rejected driver" in text:
            raise ClusterError(f"the kubelet rejected DRA driver {driver}:\n{log_tail(log, 25, '<no log>')}")
        return False

    if poll(registered, REGISTER_TIMEOUT_S, 0.2):
        return
    raise ClusterError(
        f"the kubelet did not register DRA driver {driver} within {REGISTER_TIMEOUT_S:.0f}s "
        f"(socket {socket} {'exists' if socket.exists() else 'missing'}); is the kubelet's --root-dir "
        f"{kubelet_root.parent}? plugin log:\n{log_tail(log, 25, '<no log>')}"
    )


def leftover_cdi_specs() -> list[Path]:
    """CDI spec files of any driver that uses the plugin's layout (the kubelet of this host runs their pods)."""
    return sorted(DYNAMIC_CDI_DIR.glob(ANY_DRIVERS_CDI_SPECS))


def stop_plugin(layout: Layout, driver: str | None) -> None:
    if processes.read_pid(layout, PLUGIN) is not None:
        processes.stop(layout, PLUGIN, switch_timing.STOP_S + 5.0)
    if driver:
        for leftover in cdi_specs_of(driver):
            leftover.unlink(missing_ok=True)
