"""The processes of a local cluster: how each starts (its command line, the programs on its PATH), how it
shows that it serves, and how long it may take. `up` and restarts start and wait for each the same way."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clusters.local import commands, hints, processes, readiness
from clusters.local.boot import Boot, Timeouts
from clusters.polling import poll
from clusters.provider import ClusterError

COMPONENTS = ("etcd", "containerd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet")
"""Start order; `down` stops in reverse."""
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _system_programs_only(_bins: commands.Binaries) -> tuple[Path, ...]:
    return ()


@dataclass(frozen=True)
class Component:
    command: Callable[[Boot], list[str]]
    serving: Callable[[Boot], bool]
    patience: Callable[[Timeouts], float]
    programs: Callable[[commands.Binaries], tuple[Path, ...]] = _system_programs_only
    """Directories searched before the system's on the process's PATH."""


COMPONENT: dict[str, Component] = {
    "etcd": Component(
        command=lambda b: commands.etcd(b.cfg, b.layout, b.bins),
        serving=lambda b: readiness.etcd_ready(b.cfg.ports.etcd_client),
        patience=lambda t: t.etcd,
    ),
    "containerd": Component(
        command=lambda b: commands.containerd(b.layout, b.bins),
        serving=lambda b: readiness.containerd_ready(b.bins.ctr, b.layout.containerd_socket),
        patience=lambda t: t.containerd,
        programs=lambda bins: (bins.containerd.parent, bins.cni_bin_dir),  # its runc shim, the CNI plugins
    ),
    "kube-apiserver": Component(
        command=lambda b: commands.kube_apiserver(b.cfg, b.layout, b.bins, b.gates),
        serving=lambda b: readiness.apiserver_ready(b.cfg.apiserver_url, b.layout),
        patience=lambda t: t.apiserver,
    ),
    "kube-controller-manager": Component(
        command=lambda b: commands.kube_controller_manager(b.cfg, b.layout, b.bins, b.gates),
        serving=lambda b: readiness.healthz(b.cfg.ports.controller_manager),
        patience=lambda t: t.controllers,
    ),
    "kube-scheduler": Component(
        command=lambda b: commands.kube_scheduler(b.cfg, b.layout, b.bins, b.gates),
        serving=lambda b: readiness.healthz(b.cfg.ports.scheduler),
        patience=lambda t: t.controllers,
    ),
    "kubelet": Component(
        command=lambda b: commands.kubelet(b.cfg, b.layout, b.bins),
        serving=lambda b: readiness.kubelet_healthz(b.cfg.ports.kubelet_healthz),
        patience=lambda t: t.kubelet,
        programs=lambda bins: (bins.containerd.parent,),
    ),
}


def start(boot: Boot, name: str) -> None:
    component = COMPONENT[name]
    env = dict(os.environ)
    env["PATH"] = ":".join([*(str(p) for p in component.programs(boot.bins)), SYSTEM_PATH])
    processes.start(boot.layout, name, component.command(boot), env)


def wait_serving(boot: Boot, name: str) -> None:
    """Until the component serves; when its process exits or its time is up, fail with its log's tail and
    the likely fix."""
    component = COMPONENT[name]
    timeout = component.patience(boot.timeouts)
    pid = processes.read_pid(boot.layout, name)

    def exited() -> bool:
        return pid is not None and not processes.alive(pid)

    if poll(lambda: exited() or component.serving(boot), timeout, 0.1) and component.serving(boot):
        return
    log = boot.layout.log(name)
    state = "exited" if exited() else f"not ready after {timeout:.0f}s"
    raise ClusterError(f"{name} {state} (log: {log})\n{hints.explain(log)}")
