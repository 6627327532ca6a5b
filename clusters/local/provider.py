"""The `local` provider: etcd → kube-apiserver → controller-manager and scheduler, containerd → kubelet,
as processes of this host, each checked for readiness, logs and PID files under the cluster directory."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from clusters.host import detect
from clusters.images import catalog, oci
from clusters.local import cleanup, commands, featuregates, hints, network, pki, processes, readiness, render
from clusters.local import farm as local_farm
from clusters.local import virtual as local_virtual
from clusters.local.config import LocalConfig, load
from clusters.local.layout import Layout
from clusters.provider import ClusterError, ClusterProvider, ClusterStatus, FarmDeployment, StepReporter
from clusters.toolchain import lookup
from clusters.toolchain.goenv import GoMissingError
from clusters.toolchain.lookup import ToolchainMissingError
from clusters.toolchain.progress import BuildProgress
from fakedevices.farm import FarmSource
from fakedevices.plugin.atomic import write_atomically

# Start order; `down` stops in reverse.
COMPONENTS = ("etcd", "containerd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet")
OP_LOCK_TIMEOUT_S = 3 * 3600.0  # an `up` on a fresh machine builds the toolchain first
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Timeouts:
    etcd: float = 30.0
    containerd: float = 30.0
    apiserver: float = 90.0
    controllers: float = 60.0
    kubelet: float = 60.0
    node_ready: float = 90.0
    stop: float = 10.0


class LocalProvider(ClusterProvider):
    name = "local"
    restartable = ("kubelet", "kube-scheduler", local_farm.PLUGIN)
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
        self.timeouts = timeouts or Timeouts()
        # One `up`/`down` at a time per cluster, across processes (reentrant: `up` calls `down`).
        self.cfg.state_dir.parent.mkdir(parents=True, exist_ok=True)
        self._op_lock = FileLock(str(self.cfg.state_dir.parent / f"{self.cfg.name}.op.lock"), timeout=OP_LOCK_TIMEOUT_S)

    # -- state ---------------------------------------------------------------------------------------

    def _state(self) -> dict[str, object]:
        try:
            data = json.loads(self.layout.state_file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_state(self, **updates: object) -> None:
        state = self._state()
        state.update(updates)
        self.layout.root.mkdir(parents=True, exist_ok=True)
        write_atomically(self.layout.state_file, json.dumps(state, indent=2, sort_keys=True).encode())

    def _pids(self) -> dict[str, int | None]:
        return {c: processes.read_pid(self.layout, c) for c in COMPONENTS}

    def _all_alive(self) -> bool:
        return all(pid is not None and processes.alive(pid) for pid in self._pids().values())

    def _running(self, patience: float = 0.0) -> bool:
        """Every component's process alive and the API server ready; a busy API server (a loaded machine)
        gets up to `patience` seconds to answer."""
        deadline = time.monotonic() + patience
        while self._all_alive():
            if readiness.apiserver_ready(self.cfg.apiserver_url, self.layout):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.5)
        return False

    @property
    def kubelet_root_dir(self) -> Path:
        """The kubelet's --root-dir: DRA plugins register in `plugins_registry/` and serve in `plugins/`."""
        return self.layout.kubelet_root

    # -- interface -----------------------------------------------------------------------------------

    def status(self) -> ClusterStatus:
        state = self._state()
        comps = {}
        for comp, pid in self._pids().items():
            comps[comp] = f"running (pid {pid})" if pid and processes.alive(pid) else "stopped"
        running = bool(state) and self._running()
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
        return [self.cfg.node_name] if self._state() else []

    def load_image(self, archive: Path) -> list[str]:
        bins = lookup.binaries(self.cfg.pins, build_missing=False)
        return import_image(bins["ctr"], self.layout.containerd_socket, archive)

    def deploy_farm(self, source: FarmSource, report: StepReporter | None = None) -> FarmDeployment:
        """Start the farm's DRA plugin (and its emulators) for this node; a no-op if it already serves it."""
        with self._op_lock:
            self._deploy_farm_locked(source, report or (lambda _text: None))
        return local_farm.deployment(self.cfg, self.layout, source)

    def _deploy_farm_locked(self, source: FarmSource, report: StepReporter) -> None:
        state = self._state()
        farm = source.farm
        served = local_virtual.served_node(farm).name
        pid = processes.read_pid(self.layout, local_farm.PLUGIN)
        same = state.get("farm") == str(source.path) and bool(state.get("rest_virtual")) == source.rest_virtual
        if pid is not None and processes.alive(pid) and same:
            return
        if not self._running(patience=self.timeouts.apiserver):
            raise ClusterError(f"cluster {self.cfg.name!r} is not up; run `drafarm cluster up` before deploying a farm")
        for fleet in local_virtual.names(self.layout):
            if fleet != farm.name or not same:
                local_virtual.remove(self.cfg, self.layout, fleet, api_up=True)
        local_farm.stop_plugin(self.layout, None)  # a restart: prepared claims keep their CDI specs
        added = local_farm.add_camera_addresses(local_farm.camera_addresses(farm, served))
        known = state.get("camera_addresses")
        self._save_state(camera_addresses=sorted({*added, *(known if isinstance(known, list) else [])}))
        report(f"starting the DRA plugin for farm node {served} (log: {self.layout.log(local_farm.PLUGIN)})")
        pid = local_farm.start_plugin(self.cfg, self.layout, source, self.kubelet_root_dir)
        self._save_state(farm=str(source.path), driver=farm.driver, farm_node=served, rest_virtual=False)
        local_farm.wait_registered(self.layout, self.kubelet_root_dir, farm.driver, pid)
        virtual = local_virtual.deploy(self.cfg, self.layout, source, report)
        self._save_state(rest_virtual=source.rest_virtual, virtual_nodes=len(virtual))

    def farm(self) -> FarmDeployment | None:
        state = self._state()
        spec = state.get("farm")
        if not isinstance(spec, str):
            return None
        source = local_farm.reload_farm(Path(spec))
        rest_virtual = bool(state.get("rest_virtual"))
        return local_farm.deployment(self.cfg, self.layout, dataclasses.replace(source, rest_virtual=rest_virtual))

    def prepare(self, report: StepReporter | None = None) -> None:
        step = report or (lambda _text: None)
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
        if component == "kubelet":
            self._restart_kubelet()
        elif component == "kube-scheduler":
            self._restart_scheduler()
        elif component == local_farm.PLUGIN:
            self._restart_plugin()
        else:
            raise ClusterError(
                f"component {component!r} cannot be restarted on the local provider; choose one of {self.restartable}"
            )

    def _restart_scheduler(self) -> None:
        """Stop the scheduler and start it again; pods pending meanwhile are scheduled by the new one."""
        with self._op_lock:
            if not self._running(patience=self.timeouts.apiserver):
                raise ClusterError(f"cluster {self.cfg.name!r} is not up; nothing to restart")
            bins = self._binaries(lambda _s: None)
            gates = featuregates.dra_gates(self.cfg.minor)
            processes.stop(self.layout, "kube-scheduler", self.timeouts.stop)
            self._start("kube-scheduler", commands.kube_scheduler(self.cfg, self.layout, bins, gates))
            self._wait("kube-scheduler", lambda: readiness.healthz(self.cfg.ports.scheduler), self.timeouts.controllers)

    def _restart_kubelet(self) -> None:
        """Stop the kubelet and start it again (running containers stay up), then wait for node Ready."""
        with self._op_lock:
            if not self._running(patience=self.timeouts.apiserver):
                raise ClusterError(f"cluster {self.cfg.name!r} is not up; nothing to restart")
            bins = self._binaries(lambda _s: None)
            processes.stop(self.layout, "kubelet", self.timeouts.stop)
            self._start("kubelet", commands.kubelet(self.cfg, self.layout, bins), (bins.containerd.parent,))
            self._wait(
                "kubelet", lambda: readiness.kubelet_healthz(self.cfg.ports.kubelet_healthz), self.timeouts.kubelet
            )
            ok = processes.wait_until(
                lambda: readiness.node_ready(self.cfg.apiserver_url, self.layout, self.cfg.node_name),
                self.timeouts.node_ready,
                0.2,
            )
            if not ok:
                raise ClusterError(f"node {self.cfg.node_name} not Ready after the kubelet restarted")

    def _restart_plugin(self) -> None:
        """Start the farm's plugin again if it is not running (after a crash or a kill)."""
        state = self._state()
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

    # -- up ------------------------------------------------------------------------------------------

    def up(self, report: StepReporter | None = None) -> ClusterStatus:
        with self._op_lock:
            return self._up_locked(report)

    def _up_locked(self, report: StepReporter | None) -> ClusterStatus:
        step = report or (lambda _s: None)
        if self._state() and self._all_alive():
            # Never replace a cluster whose processes all live: its API server may only be slow.
            if self._running(patience=self.timeouts.apiserver):
                step("already running")
                return self.status()
            raise ClusterError(
                f"cluster {self.cfg.name!r} is running (every component's process is alive) but its API server "
                f"did not answer /readyz within {self.timeouts.apiserver:.0f}s; see "
                f"{self.layout.log('kube-apiserver')}, then `drafarm cluster down` and `drafarm cluster up`"
            )
        if self._state() or self.layout.root.exists():
            step("cleaning up a previous, stopped cluster")
            self.down()
        facts = self._preflight()
        step("toolchain: checking binaries (builds what is missing)")
        try:
            bins = self._binaries(step)
        except (ToolchainMissingError, GoMissingError) as exc:
            raise ClusterError(str(exc)) from exc
        try:
            self._up(facts, bins, step)
        except BaseException as exc:
            step("failed: tearing down what was started")
            self.down()
            if isinstance(exc, ClusterError | KeyboardInterrupt):
                raise
            raise ClusterError(f"cluster up failed: {exc}") from exc
        return self.status()

    def _preflight(self) -> detect.HostFacts:
        facts = detect.detect()
        if not facts.is_root:
            raise ClusterError("a local cluster runs a kubelet and containerd, which need root: run as root")
        if facts.cgroup_version == 1 and self.cfg.minor > featuregates.LAST_MINOR_ON_CGROUP_V1:
            raise ClusterError(
                f"Kubernetes {self.cfg.pins.kubernetes} does not start on cgroup v1 (this host); use "
                f"1.{featuregates.LAST_MINOR_ON_CGROUP_V1} or older, or a cgroup v2 host"
            )
        if facts.cgroup_version == 1:
            missing = [c for c in detect.REQUIRED_V1_CONTROLLERS if c not in facts.v1_controllers]
            if missing:
                raise ClusterError(f"cgroup v1 controllers {missing} are not mounted; mount them and retry")
        for tool in ("runc", "iptables", "ip", "mount", "umount"):
            if shutil.which(tool, path=os.environ.get("PATH", "") + ":" + SYSTEM_PATH) is None:
                raise ClusterError(f"`{tool}` is not installed; run `make setup` as root (installs it)")
        return facts

    def _binaries(self, step: StepReporter) -> commands.Binaries:
        def report(module: str, binary: str, phase: str) -> None:
            if phase in ("built", "failed"):
                step(f"toolchain: {module}/{binary} {phase}")

        found = lookup.binaries(self.cfg.pins, build_missing=True, report=report)
        runc = shutil.which("runc", path=os.environ.get("PATH", "") + ":" + SYSTEM_PATH)
        return commands.Binaries(
            etcd=found["etcd"],
            kube_apiserver=found["kube-apiserver"],
            kube_controller_manager=found["kube-controller-manager"],
            kube_scheduler=found["kube-scheduler"],
            kubelet=found["kubelet"],
            kubectl=found["kubectl"],
            containerd=found["containerd"],
            ctr=found["ctr"],
            crictl=found["crictl"],
            cni_bin_dir=found["bridge"].parent,
            runc=Path(runc or "/usr/sbin/runc"),
        )

    def _write_files(self, facts: detect.HostFacts, bins: commands.Binaries, gates: dict[str, bool]) -> None:
        cfg, lay = self.cfg, self.layout
        for d in (
            lay.root,
            lay.logs,
            lay.pids,
            lay.kubeconfigs,
            lay.containerd,
            lay.kubelet_root,
            lay.cni_conf_dir,
            lay.cni_ipam_dir,
            lay.etcd_data,
        ):
            d.mkdir(parents=True, exist_ok=True)
        for cdi in render.CDI_SPEC_DIRS:  # where containerd looks: drivers and tests may expect them to exist
            Path(cdi).mkdir(parents=True, exist_ok=True)
        lay.etcd_data.chmod(0o700)
        ca = pki.ensure_ca(lay.pki)
        pki.ensure_service_account_keys(lay.pki)
        sans_dns = (
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            "localhost",
            cfg.node_name,
        )
        pki.issue(
            lay.pki,
            ca,
            pki.Identity(
                "apiserver",
                "kube-apiserver",
                dns_names=sans_dns,
                ip_addresses=(cfg.node_ip, cfg.kubernetes_service_ip, "127.0.0.1"),
                server=True,
            ),
        )
        pki.issue(
            lay.pki,
            ca,
            pki.Identity(
                "kubelet-serving",
                f"system:node:{cfg.node_name}",
                ("system:nodes",),
                (cfg.node_name,),
                (cfg.node_ip,),
                server=True,
            ),
        )
        pki.issue(
            lay.pki,
            ca,
            pki.Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("system:masters",)),
        )
        users = {
            "admin": pki.Identity("admin", "kubernetes-admin", ("system:masters",)),
            "controller-manager": pki.Identity("controller-manager", "system:kube-controller-manager"),
            "scheduler": pki.Identity("scheduler", "system:kube-scheduler"),
            "kubelet": pki.Identity("kubelet", f"system:node:{cfg.node_name}", ("system:nodes",)),
        }
        for conf, ident in users.items():
            crt, key = pki.issue(lay.pki, ca, ident)
            text = render.kubeconfig(cfg, lay.pki / "ca.crt", crt, key, ident.common_name)
            path = lay.kubeconfigs / f"{conf}.conf"
            path.write_text(text)
            path.chmod(0o600)
        lay.containerd_config.write_text(
            render.containerd_config(cfg, lay, facts, str(bins.runc), bins.cni_bin_dir, catalog.PAUSE.ref)
        )
        (lay.cni_conf_dir / "10-drafarm.conflist").write_text(render.cni_conflist(cfg, lay))
        lay.kubelet_config.write_text(render.kubelet_config(cfg, lay, facts, gates))
        lay.resolv_conf.write_text(render.resolv_conf())

    def _start(self, component: str, argv: list[str], path_dirs: tuple[Path, ...] = ()) -> None:
        env = dict(os.environ)
        env["PATH"] = ":".join([*(str(p) for p in path_dirs), SYSTEM_PATH])
        processes.start(self.layout, component, argv, env)

    def _wait(self, component: str, check: Callable[[], bool], timeout: float) -> None:
        pid = processes.read_pid(self.layout, component)

        def ready_or_dead() -> bool:
            if pid is not None and not processes.alive(pid):
                return True
            return check()

        ok = processes.wait_until(ready_or_dead, timeout, 0.1)
        if ok and check():
            return
        log = self.layout.log(component)
        tail = hints.tail(log)
        state = "exited" if pid is not None and not processes.alive(pid) else f"not ready after {timeout:.0f}s"
        raise ClusterError(
            f"{component} {state} (log: {log})\n--- last lines of {component}.log ---\n{tail}\n"
            f"--- likely fix: {hints.likely_fix(tail)}"
        )

    def _up(self, facts: detect.HostFacts, bins: commands.Binaries, step: StepReporter) -> None:
        cfg, lay, t = self.cfg, self.layout, self.timeouts
        gates = featuregates.dra_gates(cfg.minor)
        started = time.time()
        step("writing certificates and configuration")
        lay.root.mkdir(parents=True, exist_ok=True)
        self._save_state(
            name=cfg.name,
            kubernetes=cfg.pins.kubernetes,
            started_at=started,
            node=cfg.node_name,
            iptables_before=network.snapshot_chains(),
            netns_before=network.snapshot_netns(),
            cgroups_before=[str(p) for p in cleanup.cgroup_dirs()],
            sysctls_before=cleanup.snapshot_sysctls(),
            bridge=cfg.bridge,
        )
        self._write_files(facts, bins, gates)
        step(f"network: bridge {cfg.bridge} with {cfg.node_ip}/{cfg.node_cidr.prefixlen}")
        network.ensure_bridge(cfg)
        network.ensure_kubernetes_service(cfg)
        step("starting etcd and containerd")
        self._start("etcd", commands.etcd(cfg, lay, bins))
        ctr_dirs = (bins.containerd.parent, bins.cni_bin_dir)
        self._start("containerd", commands.containerd(lay, bins), ctr_dirs)
        self._wait("etcd", lambda: readiness.etcd_ready(cfg.ports.etcd_client), t.etcd)
        step("starting kube-apiserver")
        self._start("kube-apiserver", commands.kube_apiserver(cfg, lay, bins, gates))
        self._wait("containerd", lambda: readiness.containerd_ready(bins.ctr, lay.containerd_socket), t.containerd)
        step("importing the pause and workload images into containerd")
        for spec in catalog.ALL:
            import_image(bins.ctr, lay.containerd_socket, catalog.build(spec))
        self._wait("kube-apiserver", lambda: readiness.apiserver_ready(cfg.apiserver_url, lay), t.apiserver)
        step("starting controller-manager, scheduler and kubelet")
        self._start("kube-controller-manager", commands.kube_controller_manager(cfg, lay, bins, gates))
        self._start("kube-scheduler", commands.kube_scheduler(cfg, lay, bins, gates))
        self._start("kubelet", commands.kubelet(cfg, lay, bins), (bins.containerd.parent,))
        self._wait("kube-controller-manager", lambda: readiness.healthz(cfg.ports.controller_manager), t.controllers)
        self._wait("kube-scheduler", lambda: readiness.healthz(cfg.ports.scheduler), t.controllers)
        self._wait("kubelet", lambda: readiness.kubelet_healthz(cfg.ports.kubelet_healthz), t.kubelet)
        step(f"waiting for node {cfg.node_name} to be Ready")
        ok = processes.wait_until(
            lambda: readiness.node_ready(cfg.apiserver_url, lay, cfg.node_name), t.node_ready, 0.2
        )
        if not ok:
            seen = readiness.node_ready_message(cfg.apiserver_url, lay, cfg.node_name)
            tail = hints.tail(lay.log("kubelet"))
            raise ClusterError(
                f"node {cfg.node_name} not Ready after {t.node_ready:.0f}s: {seen}\n"
                f"--- last lines of kubelet.log ---\n{tail}\n--- likely fix: {hints.likely_fix(tail)}"
            )
        self._save_state(ready_after_s=round(time.time() - started, 2))
        step(f"node {cfg.node_name} Ready")

    # -- down ----------------------------------------------------------------------------------------

    def down(self, report: StepReporter | None = None) -> None:
        with self._op_lock:
            self._down_locked(report)

    def _down_locked(self, report: StepReporter | None) -> None:
        step = report or (lambda _s: None)
        lay = self.layout
        state = self._state()
        for fleet in local_virtual.names(lay):
            step(f"stopping kwok of virtual fleet {fleet}")
            local_virtual.remove(self.cfg, lay, fleet, api_up=False)
        if processes.read_pid(lay, local_farm.PLUGIN) is not None:
            step("stopping the farm's DRA plugin")
            local_farm.stop_plugin(lay, str(state.get("driver") or "") or None)
        # The cluster's pods are gone with it: the plugin's checkpoint would hold their devices next time.
        shutil.rmtree(local_farm.plugin_state_dir(self.cfg), ignore_errors=True)
        cameras = state.get("camera_addresses")
        local_farm.remove_camera_addresses([str(a) for a in cameras] if isinstance(cameras, list) else [])
        kubelet_pid = processes.read_pid(lay, "kubelet")
        if kubelet_pid is not None:
            step("stopping kubelet")
            processes.stop(lay, "kubelet", self.timeouts.stop)
        if lay.containerd_socket.exists():
            step("removing pods")
            self._remove_pods()
        for comp in reversed(COMPONENTS):
            if comp != "kubelet" and processes.read_pid(lay, comp) is not None:
                step(f"stopping {comp}")
                processes.stop(lay, comp, self.timeouts.stop)
        for pid in processes.processes_mentioning(str(lay.root)):
            processes.stop_pid(pid, self.timeouts.stop)
        step("unmounting, removing network rules and CNI state")
        cleanup.unmount_all(lay.root)
        before = state.get("iptables_before")
        if isinstance(before, dict):
            network.remove_new_chains(before)
        netns_before = state.get("netns_before")
        network.remove_cni_state(self.cfg, netns_before if isinstance(netns_before, list) else [])
        network.delete_bridge(self.cfg)
        sysctls_before = state.get("sysctls_before")
        if isinstance(sysctls_before, dict):
            cleanup.restore_sysctls({str(k): str(v) for k, v in sysctls_before.items()})
        cgroups_before = state.get("cgroups_before")
        if state:
            cleanup.remove_cgroups(cgroups_before if isinstance(cgroups_before, list) else [])
        if lay.root.exists():
            self._keep_last_logs()
            shutil.rmtree(lay.root, ignore_errors=True)

    def _remove_pods(self) -> None:
        """Stop and remove every pod sandbox through CRI, so CNI tears down each pod's network."""
        try:
            bins = lookup.binaries(self.cfg.pins, build_missing=False)
        except ToolchainMissingError:
            return
        endpoint = f"unix://{self.layout.containerd_socket}"
        subprocess.run(
            [
                str(bins["crictl"]),
                "--runtime-endpoint",
                endpoint,
                "--timeout",
                "10s",
                "rmp",
                "--all",
                "--force",
            ],
            capture_output=True,
            timeout=60,
        )

    def _keep_last_logs(self) -> None:
        if not self.layout.logs.is_dir():
            return
        keep = self.layout.root.parent / f"{self.cfg.name}.last-logs"
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(self.layout.logs, keep)

    def leftovers(self) -> list[str]:
        """What a previous `down` left behind (the benchmark checks this is empty)."""
        left = [f"process {pid}" for pid in processes.processes_mentioning(str(self.layout.root))]
        left += [f"mount {m}" for m in cleanup.mounts_under(self.layout.root)]
        if network.link_exists(self.cfg.bridge):
            left.append(f"bridge {self.cfg.bridge}")
        if self.layout.root.exists():
            left.append(f"directory {self.layout.root}")
        if local_farm.plugin_state_dir(self.cfg).exists():
            left.append(f"plugin state {local_farm.plugin_state_dir(self.cfg)}")
        if not _kubelet_running_elsewhere(self.layout.root):  # else the shared CDI dir and cgroups may be its
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


def import_image(ctr: Path, socket: Path, archive: Path) -> list[str]:
    """`ctr images import` into the CRI namespace, then pin each imported image against GC."""
    refs = oci.archive_refs(archive)
    if not refs:
        raise ClusterError(f"{archive} names no image (no index.json annotation or RepoTags); rebuild it")
    base = [str(ctr), "--address", str(socket), "--namespace", "k8s.io"]
    proc = subprocess.run([*base, "images", "import", str(archive)], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise ClusterError(
            f"`ctr images import {archive}` failed: {proc.stderr.strip()}; rebuild the image archive and retry"
        )
    for ref in refs:
        label = subprocess.run(
            [*base, "images", "label", ref, f"{catalog.PINNED_LABEL}=pinned"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if label.returncode != 0:
            raise ClusterError(f"image {ref} from {archive} is not in containerd after import: {label.stderr.strip()}")
    return refs
