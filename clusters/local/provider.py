"""The `local` provider: a cluster of processes on this host (etcd, containerd, kube-apiserver,
kube-controller-manager, kube-scheduler, kubelet) with its files under one directory. This module is the
provider interface; the bring-up and the restarts are the steps of steps.py, `down` is teardown.py."""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

from filelock import FileLock

from clusters.host import detect
from clusters.images import catalog
from clusters.local import farm as local_farm
from clusters.local import featuregates, images, liveness, preflight, processes, readiness, steps, teardown
from clusters.local import virtual as local_virtual
from clusters.local.boot import Boot, Timeouts
from clusters.local.commands import Binaries
from clusters.local.components import COMPONENTS
from clusters.local.config import LocalConfig, load
from clusters.local.layout import Layout
from clusters.provider import ClusterError, ClusterProvider, ClusterStatus, FarmDeployment, StepReporter
from clusters.state_file import StateFile
from clusters.toolchain import lookup
from clusters.toolchain.goenv import GoMissingError
from clusters.toolchain.lookup import ToolchainMissingError
from clusters.toolchain.progress import BuildProgress
from fakedevices.farm import FarmSource

OP_LOCK_TIMEOUT_S = 3 * 3600.0  # an `up` on a fresh machine builds the toolchain first


def _quiet(_text: str) -> None:
    return None


class LocalProvider(ClusterProvider):
    name = "local"
    restartable = (*steps.RESTARTS, local_farm.PLUGIN)
    virtual_nodes = True

    def __init__(
        self,
        k8s_version: str | None = None,
        cluster_name: str | None = None,
        state_dir: Path | None = None,
        timeouts: Timeouts | None = None,
        workers: int | None = None,
    ) -> None:
        """`workers` is what every provider takes: how many nodes the farm wants; this host runs one, which
        serves the farm's first node."""
        del workers
        self.cfg: LocalConfig = load(k8s_version, cluster_name, state_dir)
        self.layout = Layout(self.cfg.state_dir)
        self.state = StateFile(self.layout.state_file)
        self.timeouts = timeouts or Timeouts()
        # One `up`/`down` at a time per cluster, across processes (reentrant: `up` calls `down`).
        self.cfg.state_dir.parent.mkdir(parents=True, exist_ok=True)
        self._op_lock = FileLock(str(self.cfg.state_dir.parent / f"{self.cfg.name}.op.lock"), timeout=OP_LOCK_TIMEOUT_S)

    @property
    def kubelet_root_dir(self) -> Path:
        """The kubelet's --root-dir: DRA plugins register in `plugins_registry/` and serve in `plugins/`."""
        return self.layout.kubelet_root

    def status(self) -> ClusterStatus:
        state = self.state.read()
        comps = {}
        for comp, pid in liveness.component_pids(self.layout).items():
            comps[comp] = f"running (pid {pid})" if pid and processes.alive(pid) else "stopped"
        running = bool(state) and liveness.running(self.cfg, self.layout)
        detail = ""
        if running:
            detail = readiness.node_ready_message(self.cfg.apiserver_url, self.layout, self.cfg.node_name)
        return ClusterStatus(
            name=self.cfg.name,
            provider=self.name,
            running=running,
            kubernetes_version=str(state.get("kubernetes", "")),
            kubeconfig=self.layout.admin_kubeconfig if running else None,
            components=comps,
            detail=detail,
            feature_gates=featuregates.dra_gates(self.cfg.minor),
        )

    def kubeconfig(self) -> Path:
        if not self.layout.admin_kubeconfig.is_file():
            raise ClusterError(
                f"cluster {self.cfg.name!r} is not up (no {self.layout.admin_kubeconfig}); run `drafarm cluster up`"
            )
        return self.layout.admin_kubeconfig

    def nodes(self) -> list[str]:
        return [self.cfg.node_name] if self.state.read() else []

    def load_image(self, archive: Path) -> list[str]:
        bins = lookup.binaries(self.cfg.pins, build_missing=False)
        return images.import_image(bins["ctr"], self.layout.containerd_socket, archive)

    def deploy_farm(self, source: FarmSource, report: StepReporter | None = None) -> FarmDeployment:
        """Start the farm's DRA plugin (and its emulators) for this node; a no-op if it already serves it."""
        with self._op_lock:
            self._deploy_farm_locked(source, report or _quiet)
        return local_farm.deployment(self.cfg, self.layout, source)

    def _deploy_farm_locked(self, source: FarmSource, report: StepReporter) -> None:
        state = self.state.read()
        farm = source.farm
        served = local_virtual.served_node(farm).name
        pid = processes.read_pid(self.layout, local_farm.PLUGIN)
        same = state.get("farm") == str(source.path) and bool(state.get("rest_virtual")) == source.rest_virtual
        if pid is not None and processes.alive(pid) and same:
            return
        if not liveness.running(self.cfg, self.layout, patience=self.timeouts.apiserver):
            raise ClusterError(f"cluster {self.cfg.name!r} is not up; run `drafarm cluster up` before deploying a farm")
        for fleet in local_virtual.names(self.layout):
            if fleet != farm.name or not same:
                local_virtual.remove(self.cfg, self.layout, fleet, api_up=True)
        local_farm.stop_plugin(self.layout, None)  # a restart: prepared claims keep their CDI specs
        added = local_farm.add_camera_addresses(local_farm.camera_addresses(farm, served))
        known = state.get("camera_addresses")
        self.state.update(camera_addresses=sorted({*added, *(known if isinstance(known, list) else [])}))
        report(f"starting the DRA plugin for farm node {served} (log: {self.layout.log(local_farm.PLUGIN)})")
        pid = local_farm.start_plugin(self.cfg, self.layout, source, self.kubelet_root_dir)
        self.state.update(farm=str(source.path), driver=farm.driver, farm_node=served, rest_virtual=False)
        local_farm.wait_registered(self.layout, self.kubelet_root_dir, farm.driver, pid)
        virtual = local_virtual.deploy(self.cfg, self.layout, source, report)
        self.state.update(rest_virtual=source.rest_virtual, virtual_nodes=len(virtual))

    def farm(self) -> FarmDeployment | None:
        state = self.state.read()
        spec = state.get("farm")
        if not isinstance(spec, str):
            return None
        source = local_farm.reload_farm(Path(spec))
        rest_virtual = bool(state.get("rest_virtual"))
        return local_farm.deployment(self.cfg, self.layout, dataclasses.replace(source, rest_virtual=rest_virtual))

    def prepare(self, report: StepReporter | None = None) -> None:
        step = report or _quiet
        with BuildProgress(self.cfg.pins, step) as progress:
            try:
                lookup.binaries(self.cfg.pins, build_missing=True, report=progress)
            except (ToolchainMissingError, GoMissingError) as exc:
                raise ClusterError(str(exc)) from exc
        for spec in catalog.ALL:
            if not catalog.archive_path(spec).is_file():
                step(f"building image {spec.ref} offline from host files")
            catalog.build(spec)

    def restart(self, component: str) -> None:
        if component == local_farm.PLUGIN:
            self._restart_plugin()
        elif component in steps.RESTARTS:
            self._restart_component(component)
        else:
            raise ClusterError(
                f"component {component!r} cannot be restarted on the local provider; choose one of {self.restartable}"
            )

    def _restart_component(self, component: str) -> None:
        """Stop what restarting `component` restarts, each by its PID, and run its bring-up steps again.
        Running containers stay up: neither the kubelet's pods nor containerd's shims are stopped."""
        replaced = steps.RESTARTS[component]
        others = [c for c in COMPONENTS if c not in replaced]
        with self._op_lock:
            if "kube-apiserver" in replaced:
                up = bool(self.state.read()) and liveness.all_alive(self.layout, others)
            else:
                up = liveness.running(self.cfg, self.layout, self.timeouts.apiserver, others)
            if not up:
                raise ClusterError(f"cluster {self.cfg.name!r} is not up; nothing to restart")
            boot = self._boot(detect.detect(), preflight.binaries(self.cfg, _quiet))
            for stopped in steps.stopped_for_restart(component):
                processes.stop(self.layout, stopped, self.timeouts.stop)
            for step in steps.restart_steps(self.cfg, component):
                step.run(boot)

    def _restart_plugin(self) -> None:
        """Start the farm's plugin again if it is not running (after a crash or a kill)."""
        state = self.state.read()
        spec = state.get("farm")
        if not isinstance(spec, str):
            raise ClusterError("no farm is deployed on this cluster; run `drafarm cluster up --farm SPEC`")
        source = local_farm.reload_farm(Path(spec))
        self.deploy_farm(dataclasses.replace(source, rest_virtual=bool(state.get("rest_virtual"))))

    def collect_logs(self, dest: Path) -> list[Path]:
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        sources = list(self.layout.logs.glob("*.log")) if self.layout.logs.is_dir() else []
        for log in sources:
            target = dest / log.name
            shutil.copy2(log, target)
            written.append(target)
        if self.layout.state_file.is_file():
            target = dest / "cluster.json"
            shutil.copy2(self.layout.state_file, target)
            written.append(target)
        return written

    def up(self, report: StepReporter | None = None) -> ClusterStatus:
        with self._op_lock:
            return self._up_locked(report or _quiet)

    def _up_locked(self, step: StepReporter) -> ClusterStatus:
        if self.state.read() and liveness.all_alive(self.layout):
            # Never replace a cluster whose processes all live: its API server may only be slow.
            if liveness.running(self.cfg, self.layout, patience=self.timeouts.apiserver):
                step("already running")
                return self.status()
            raise ClusterError(
                f"cluster {self.cfg.name!r} is running (every component's process is alive) but its API server "
                f"did not answer /readyz within {self.timeouts.apiserver:.0f}s; see "
                f"{self.layout.log('kube-apiserver')}, then `drafarm cluster down` and `drafarm cluster up`"
            )
        if self.state.read() or self.layout.root.exists():
            step("cleaning up a previous, stopped cluster")
            self.down()
        facts = preflight.host_facts(self.cfg)
        step("toolchain: checking binaries (builds what is missing)")
        try:
            bins = preflight.binaries(self.cfg, step)
        except (ToolchainMissingError, GoMissingError) as exc:
            raise ClusterError(str(exc)) from exc
        try:
            boot = self._boot(facts, bins)
            for each in steps.bring_up(self.cfg):
                step(each.name)
                each.run(boot)
            self.state.update(ready_after_s=round(time.time() - boot.started, 2))
            step(f"node {self.cfg.node_name} Ready")
        except BaseException as exc:
            step("failed: tearing down what was started")
            self.down()
            if isinstance(exc, ClusterError | KeyboardInterrupt):
                raise
            raise ClusterError(f"cluster up failed: {exc}") from exc
        return self.status()

    def _boot(self, facts: detect.HostFacts, bins: Binaries) -> Boot:
        gates = featuregates.dra_gates(self.cfg.minor)
        return Boot(self.cfg, self.layout, self.timeouts, bins, facts, gates, self.state)

    def down(self, report: StepReporter | None = None) -> None:
        with self._op_lock:
            teardown.tear_down(self.cfg, self.layout, self.state.read(), self.timeouts.stop, report or _quiet)

    def leftovers(self) -> list[str]:
        """What a previous `down` left behind (the benchmark checks this is empty)."""
        return teardown.leftovers(self.cfg, self.layout)
