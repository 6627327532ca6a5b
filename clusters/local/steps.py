"""Bringing a local cluster up is an ordered list of steps, each named for the progress line it prints;
restarting a component re-runs its own steps from that list (kind's create actions are the model).

etcd and containerd start together; the API server starts once etcd serves; the images go into containerd
while the API server starts; the controller manager, the scheduler and the kubelet start once the API
server serves; the node is Ready last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clusters.images import catalog
from clusters.local import cleanup, components, files, hints, images, network, readiness
from clusters.local.boot import Boot
from clusters.local.components import COMPONENTS
from clusters.local.config import LocalConfig
from clusters.polling import poll
from clusters.provider import ClusterError


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Boot], None]
    component: str | None = None
    """The component this step starts or waits for; restarting the component runs the step again."""


def _start(name: str) -> Step:
    return Step(f"starting {name}", lambda boot: components.start(boot, name), name)


def _serving(name: str) -> Step:
    return Step(f"waiting for {name} to serve", lambda boot: components.wait_serving(boot, name), name)


def _record_host(boot: Boot) -> None:
    """What the host had before the cluster changed it: `down` removes or restores only the difference."""
    cfg = boot.cfg
    boot.layout.root.mkdir(parents=True, exist_ok=True)
    boot.state.update(
        name=cfg.name,
        kubernetes=cfg.pins.kubernetes,
        started_at=boot.started,
        node=cfg.node_name,
        iptables_before=network.snapshot_chains(),
        netns_before=network.snapshot_netns(),
        cgroups_before=[str(p) for p in cleanup.cgroup_dirs()],
        sysctls_before=cleanup.snapshot_sysctls(),
        bridge=cfg.bridge,
    )


def _network(boot: Boot) -> None:
    network.ensure_bridge(boot.cfg)
    network.ensure_kubernetes_service(boot.cfg)


def _import_images(boot: Boot) -> None:
    for spec in catalog.ALL:
        images.import_image(boot.bins.ctr, boot.layout.containerd_socket, catalog.build(spec))


def _node_ready(boot: Boot) -> None:
    cfg, lay, timeout = boot.cfg, boot.layout, boot.timeouts.node_ready
    if poll(lambda: readiness.node_ready(cfg.apiserver_url, lay, cfg.node_name), timeout, 0.2):
        return
    seen = readiness.node_ready_message(cfg.apiserver_url, lay, cfg.node_name)
    kubelet_log = hints.explain(lay.log("kubelet"))
    raise ClusterError(f"node {cfg.node_name} not Ready after {timeout:.0f}s: {seen}\n{kubelet_log}")


def bring_up(cfg: LocalConfig) -> tuple[Step, ...]:
    return (
        Step("recording the host's iptables chains, network namespaces, cgroups and kernel settings", _record_host),
        Step("writing certificates and configuration", files.write),
        Step(f"network: bridge {cfg.bridge} with {cfg.node_ip}/{cfg.node_cidr.prefixlen}", _network),
        _start("etcd"),
        _start("containerd"),
        _serving("etcd"),
        _start("kube-apiserver"),
        _serving("containerd"),
        Step("importing the pause and workload images into containerd", _import_images),
        _serving("kube-apiserver"),
        _start("kube-controller-manager"),
        _start("kube-scheduler"),
        _start("kubelet"),
        _serving("kube-controller-manager"),
        _serving("kube-scheduler"),
        _serving("kubelet"),
        Step(f"waiting for node {cfg.node_name} to be Ready", _node_ready, "kubelet"),
    )


RESTARTS: dict[str, tuple[str, ...]] = {
    "etcd": ("etcd", "kube-apiserver"),
    "containerd": ("containerd",),
    "kube-apiserver": ("kube-apiserver",),
    "kube-controller-manager": ("kube-controller-manager",),
    "kube-scheduler": ("kube-scheduler",),
    "kubelet": ("kubelet",),
}
"""What restarting each component restarts. With etcd goes the API server: it is stopped first (its clients
see it gone, not failing) and started once etcd serves again, as at `up`. containerd is stopped by its
own PID: its shims, and so the running containers, stay."""


def stopped_for_restart(component: str) -> tuple[str, ...]:
    """What restarting `component` stops, in `down`'s order (the reverse of the start order)."""
    return tuple(c for c in reversed(COMPONENTS) if c in RESTARTS[component])


def restart_steps(cfg: LocalConfig, component: str) -> tuple[Step, ...]:
    """The bring-up steps of what restarting `component` restarts, in bring-up order."""
    return tuple(step for step in bring_up(cfg) if step.component in RESTARTS[component])
