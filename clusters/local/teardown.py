"""Taking a local cluster down, and auditing what a `down` left behind.

Everything is stopped by PID (the farm's plugin and kwok first, then the kubelet, the pods through CRI,
the other components in reverse start order, and any process left mentioning the cluster directory:
containerd's shims), then mounts, the iptables chains and network namespaces the cluster added, its
bridge, the kernel settings the kubelet changed and its cgroups go; the last logs are kept beside the
removed directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from clusters import pids
from clusters.local import cleanup, network, processes
from clusters.local import farm as local_farm
from clusters.local import virtual as local_virtual
from clusters.local.components import COMPONENTS
from clusters.local.config import LocalConfig
from clusters.local.layout import Layout
from clusters.provider import StepReporter
from clusters.toolchain import lookup
from clusters.toolchain.lookup import ToolchainMissingError


def tear_down(cfg: LocalConfig, lay: Layout, state: dict[str, object], stop_s: float, step: StepReporter) -> None:
    """Stop and remove everything `up` (and `deploy_farm`) created; `state` is what `up` recorded."""
    for fleet in local_virtual.names(lay):
        step(f"stopping kwok of virtual fleet {fleet}")
        local_virtual.remove(cfg, lay, fleet, api_up=False)
    if processes.read_pid(lay, local_farm.PLUGIN) is not None:
        step("stopping the farm's DRA plugin")
        local_farm.stop_plugin(lay, str(state.get("driver") or "") or None)
    # The cluster's pods are gone with it: the plugin's checkpoint would hold their devices next time.
    shutil.rmtree(local_farm.plugin_state_dir(cfg), ignore_errors=True)
    cameras = state.get("camera_addresses")
    local_farm.remove_camera_addresses([str(a) for a in cameras] if isinstance(cameras, list) else [])
    kubelet_pid = processes.read_pid(lay, "kubelet")
    if kubelet_pid is not None:
        step("stopping kubelet")
        processes.stop(lay, "kubelet", stop_s)
    if lay.containerd_socket.exists():
        step("removing pods")
        _remove_pods(cfg, lay)
    for comp in reversed(COMPONENTS):
        if comp != "kubelet" and processes.read_pid(lay, comp) is not None:
            step(f"stopping {comp}")
            processes.stop(lay, comp, stop_s)
    for pid in processes.processes_mentioning(str(lay.root)):
        pids.stop(pid, stop_s)
    step("unmounting, removing network rules and CNI state")
    cleanup.unmount_all(lay.root)
    before = state.get("iptables_before")
    if isinstance(before, dict):
        network.remove_new_chains(before)
    netns_before = state.get("netns_before")
    network.remove_cni_state(cfg, netns_before if isinstance(netns_before, list) else [])
    network.delete_bridge(cfg)
    sysctls_before = state.get("sysctls_before")
    if isinstance(sysctls_before, dict):
        cleanup.restore_sysctls({str(k): str(v) for k, v in sysctls_before.items()})
    cgroups_before = state.get("cgroups_before")
    if state:
        cleanup.remove_cgroups(cgroups_before if isinstance(cgroups_before, list) else [])
    if lay.root.exists():
        _keep_last_logs(cfg, lay)
        shutil.rmtree(lay.root, ignore_errors=True)


def _remove_pods(cfg: LocalConfig, lay: Layout) -> None:
    """Stop and remove every pod sandbox through CRI, so CNI tears down each pod's network."""
    try:
        bins = lookup.binaries(cfg.pins, build_missing=False)
    except ToolchainMissingError:
        return
    endpoint = f"unix://{lay.containerd_socket}"
    subprocess.run(
        [str(bins["crictl"]), "--runtime-endpoint", endpoint, "--timeout", "10s", "rmp", "--all", "--force"],
        capture_output=True,
        timeout=60,
    )


def _keep_last_logs(cfg: LocalConfig, lay: Layout) -> None:
    if not lay.logs.is_dir():
        return
    keep = lay.root.parent / f"{cfg.name}.last-logs"
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(lay.logs, keep)


def leftovers(cfg: LocalConfig, lay: Layout) -> list[str]:
    """What a previous `down` left behind (the benchmark checks this is empty)."""
    left = [f"process {pid}" for pid in processes.processes_mentioning(str(lay.root))]
    left += [f"mount {m}" for m in cleanup.mounts_under(lay.root)]
    if network.link_exists(cfg.bridge):
        left.append(f"bridge {cfg.bridge}")
    if lay.root.exists():
        left.append(f"directory {lay.root}")
    if local_farm.plugin_state_dir(cfg).exists():
        left.append(f"plugin state {local_farm.plugin_state_dir(cfg)}")
    if not _kubelet_running_elsewhere(lay.root):  # else the shared CDI dir and cgroups may be its
        left += [f"CDI spec {p}" for p in local_farm.leftover_cdi_specs()]
        left += [f"cgroup {p}" for p in cleanup.cgroup_dirs()]
    return left


def _kubelet_running_elsewhere(root: Path) -> bool:
    """Whether a kubelet of another cluster runs (its kubepods cgroups are then not our leftovers)."""
    for pid in processes.processes_mentioning("--root-dir="):
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if os.path.basename(exe) == "kubelet" and pid not in processes.processes_mentioning(str(root)):
            return True
    return False
