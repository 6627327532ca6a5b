"""The `kind` provider: a real multi-node cluster of kind nodes (docker containers running systemd,
containerd and the kubelet), from drafarm's offline node image and our own pod network.

`up`: docker (the user's, or drafarm's own dockerd), the node image (built offline unless given), the
nodes' docker network, `kind create cluster` with a generated config, the pod network (cni.py), then
every node Ready. A failed `up` prints the nodes' log tails and takes everything down. `down`:
`kind delete cluster`, the network, and drafarm's dockerd when it started it and nothing else runs
on it. State: `<state root>/kind-<name>/` (config, kubeconfig, cluster.json).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from filelock import FileLock

from clusters import paths
from clusters.driver import manifest
from clusters.host import detect, docker_cli, dockerd
from clusters.host.docker_cli import DockerError, Endpoint
from clusters.images import catalog
from clusters.images import driver as driver_image
from clusters.images.node.build import NodeImageError, build_node_image, image_exists
from clusters.images.oci import archive_refs
from clusters.kind import artifacts, cni, config, device_hosts, diagnose, dns, inotify, network, restarts
from clusters.kind import farm as kind_farm
from clusters.kind.config import KindConfigError, KindSettings
from clusters.local import featuregates
from clusters.polling import poll
from clusters.provider import PLUGIN, ClusterError, ClusterProvider, ClusterStatus, FarmDeployment, StepReporter
from clusters.state_file import StateFile
from clusters.toolchain import lookup
from fakedevices.farm import FarmSource, open_farm
from fakedevices.spec.problems import SpecError

CLUSTER_LABEL = "io.x-k8s.kind.cluster"
OP_LOCK_TIMEOUT_S = 3 * 3600.0


@dataclass(frozen=True)
class Timeouts:
    create: float = 900.0
    pod_cidrs: float = 60.0
    ready: float = 180.0
    command: float = 120.0


def _quiet(_text: str) -> None:
    return None


class KindProvider(ClusterProvider):
    name = "kind"
    restartable = ("kubelet", "containerd", "etcd", PLUGIN)

    def __init__(
        self,
        k8s_version: str | None = None,
        cluster_name: str | None = None,
        workers: int | None = None,
        image: str | None = None,
        state_dir: Path | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        try:
            settings = config.load(k8s_version, cluster_name, workers, image)
            gates = featuregates.dra_gates(settings.pins.minor)
        except (KindConfigError, featuregates.UnsupportedMinorError) as exc:
            raise ClusterError(str(exc)) from exc
        self.settings: KindSettings = replace(settings, gates=gates)
        self.root = (state_dir or paths.state_root()) / f"kind-{self.settings.name}"
        self.timeouts = timeouts or Timeouts()
        self.root.parent.mkdir(parents=True, exist_ok=True)
        self._op_lock = FileLock(
            str(self.root.parent / f"kind-{self.settings.name}.op.lock"), timeout=OP_LOCK_TIMEOUT_S
        )

    # -- files and commands --------------------------------------------------------------------------

    @property
    def config_file(self) -> Path:
        return self.root / "kind.yaml"

    @property
    def kubeconfig_file(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def state_file(self) -> Path:
        return self.root / "cluster.json"

    @property
    def state(self) -> StateFile:
        return StateFile(self.state_file)

    def _kind(self, endpoint: Endpoint, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        try:
            binary = lookup.program(self.settings.pins, "kind", "kind")
        except lookup.ToolchainMissingError as exc:
            raise ClusterError(str(exc)) from exc
        env = endpoint.env()
        env["KIND_EXPERIMENTAL_DOCKER_NETWORK"] = self.settings.network
        return subprocess.run(
            [str(binary), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout or self.timeouts.command,
            stdin=subprocess.DEVNULL,
        )

    def _kubectl(
        self, *args: str, timeout: float | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        try:
            kubectl = lookup.binaries(self.settings.pins, build_missing=False)["kubectl"]
        except lookup.ToolchainMissingError as exc:
            raise ClusterError(str(exc)) from exc
        return subprocess.run(
            [str(kubectl), f"--kubeconfig={self.kubeconfig_file}", *args],
            capture_output=True,
            text=True,
            timeout=timeout or self.timeouts.command,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )

    def _kubectl_ok(self, *args: str, timeout: float | None = None, stdin: str | None = None) -> str:
        proc = self._kubectl(*args, timeout=timeout, stdin=stdin)
        if proc.returncode != 0:
            raise ClusterError(
                f"`kubectl {' '.join(args[:4])} ...` failed: {(proc.stderr or proc.stdout).strip()[-1500:]}"
            )
        return proc.stdout

    def _containers(self, endpoint: Endpoint) -> dict[str, str]:
        """This cluster's node containers: {name: docker state}."""
        out = docker_cli.lines(
            endpoint,
            "ps",
            "-a",
            "--filter",
            f"label={CLUSTER_LABEL}={self.settings.name}",
            "--format",
            "{{.Names}}\t{{.State}}",
        )
        return dict(line.split("\t", 1) for line in out)

    def _nodes_json(self) -> dict[str, object]:
        proc = self._kubectl("get", "nodes", "-o", "json")
        if proc.returncode != 0:
            return {}
        data = json.loads(proc.stdout or "{}")
        return data if isinstance(data, dict) else {}

    def _ready(self) -> dict[str, bool]:
        ready = {}
        items = self._nodes_json().get("items", [])
        for item in items if isinstance(items, list) else []:
            conditions = item.get("status", {}).get("conditions", [])
            ready[item["metadata"]["name"]] = any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in conditions
            )
        return ready

    def _wait(self, what: str, check: Callable[[], bool], timeout: float, seen: Callable[[], str]) -> None:
        if not poll(check, timeout, 0.5):
            raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {seen()}")

    # -- interface -----------------------------------------------------------------------------------

    def status(self) -> ClusterStatus:
        endpoint = dockerd.find()
        containers = self._containers(endpoint) if endpoint is not None else {}
        expected = {self.settings.control_plane, *self.settings.worker_names()}
        running = (
            bool(self.state.read())
            and bool(containers)
            and all(state == "running" for state in containers.values())
            and self.kubeconfig_file.is_file()
            and self._kubectl("get", "--raw", "/readyz", timeout=10).returncode == 0
        )
        ready = self._ready() if running else {}
        comps = {name: f"container {containers.get(name, 'missing')}" for name in sorted(expected | set(containers))}
        detail = ", ".join(f"{n} {'Ready' if ok else 'NotReady'}" for n, ok in sorted(ready.items()))
        return ClusterStatus(
            name=self.settings.name,
            provider=self.name,
            running=running,
            kubernetes_version=str(self.state.read().get("kubernetes", "")),
            kubeconfig=self.kubeconfig_file if running else None,
            components=comps,
            detail=detail,
            feature_gates=dict(self.settings.gates),
        )

    def kubeconfig(self) -> Path:
        if not self.kubeconfig_file.is_file():
            raise ClusterError(
                f"kind cluster {self.settings.name!r} is not up (no {self.kubeconfig_file}); "
                "run `drafarm cluster up --provider kind`"
            )
        return self.kubeconfig_file

    def nodes(self) -> list[str]:
        endpoint = dockerd.find()
        return sorted(self._containers(endpoint)) if endpoint is not None else []

    def load_image(self, archive: Path, nodes: list[str] | None = None) -> list[str]:
        """Import `archive` into every node (or only `nodes`) with `kind load image-archive`."""
        endpoint = self._endpoint_or_error()
        only = ["--nodes", ",".join(nodes)] if nodes else []
        args = ("load", "image-archive", str(archive), "--name", self.settings.name, *only)
        proc = self._kind(endpoint, *args, timeout=600)
        if proc.returncode != 0:
            raise ClusterError(f"`kind load image-archive {archive}` failed: {proc.stderr.strip()[-1500:]}")
        return archive_refs(archive)

    def deploy_farm(self, source: FarmSource, report: StepReporter | None = None) -> FarmDeployment:
        """Label the workers with their farm nodes, load the driver image, apply the driver's objects, and
        wait until the kubelet of every served node registered the driver; idempotent."""
        with self._op_lock:  # test processes deploy at once: one builds and applies, the others find it done
            try:
                return self._deploy_farm_locked(source, report or _quiet)
            except DockerError as exc:
                raise ClusterError(
                    f"deploying farm {source.farm.name} on kind cluster {self.settings.name}: {exc}"
                ) from exc

    def _deploy_farm_locked(self, source: FarmSource, step: StepReporter) -> FarmDeployment:
        endpoint = self._endpoint_or_error()
        workers = self.settings.worker_names()
        mapping = kind_farm.node_map(source.farm, workers)
        if not mapping:
            raise ClusterError("the cluster has no worker node to serve the farm on; bring it up with --nodes N")
        state = self.state.read()
        if (state.get("farm_path"), state.get("farm_seed"), state.get("farm_nodes")) == (
            str(source.path),
            source.farm.seed,
            mapping,
        ) and all(f"kubelet registered driver {source.farm.driver}" in self._plugin_log(k, 2000) for k in mapping):
            return kind_farm.deployment(endpoint, source.farm, mapping, self._plugin_log)
        if len(source.farm.nodes) > len(mapping):
            step(f"the farm has {len(source.farm.nodes)} nodes; serving the first {len(mapping)} (one per worker)")
        for kube, farm_node in mapping.items():
            labels = {**source.farm.node(farm_node).labels, manifest.FARM_NODE_LABEL: farm_node}
            self._kubectl_ok("label", "node", kube, "--overwrite", *(f"{k}={v}" for k, v in sorted(labels.items())))
        step(f"driver image (built offline unless cached) → {', '.join(sorted(mapping))}")
        archive = catalog.build(driver_image.DRIVER)
        self.load_image(archive, nodes=sorted(mapping))
        key = None
        if device_hosts.pool_networks(source.farm, self.settings.name):
            key = device_hosts.cluster_key(self.root)
            image = self._host_image(endpoint, archive, driver_image.DRIVER.ref)
            hosts = device_hosts.DeviceHostSettings(
                image, source.path, source.farm.seed, key, self.root / "device-hosts"
            )
            device_hosts.deploy(endpoint, self.settings.name, source.farm, mapping, hosts, step)
        for kube in self._containers(endpoint):
            kind_farm.set_device_network(endpoint, kube)
        objects = manifest.objects(source.path, source.farm.seed, mapping, driver_image.DRIVER.ref, key)
        self._kubectl_ok("apply", "-f", "-", stdin=manifest.render(objects))
        self._wait_rollout()
        step(f"waiting for the kubelets of {len(mapping)} node(s) to register driver {source.farm.driver}")
        for kube in mapping:
            self._wait_registered(kube, source.farm.driver)
        self.state.update(farm_path=str(source.path), farm_seed=source.farm.seed, farm_nodes=mapping)
        return kind_farm.deployment(endpoint, source.farm, mapping, self._plugin_log)

    @staticmethod
    def _host_image(endpoint: Endpoint, archive: Path, ref: str) -> str:
        """`ref` from `archive` in the docker daemon itself (for containers beside the nodes), tagged with the
        archive's fingerprint so a rebuilt image is loaded again; returns that tag."""
        tagged = f"{ref.rsplit(':', 1)[0]}:{archive.stem.rsplit('-', 1)[-1]}"
        if docker_cli.run(endpoint, "image", "inspect", tagged, check=False).returncode != 0:
            docker_cli.run(endpoint, "load", "--input", str(archive), timeout=600)
            docker_cli.run(endpoint, "tag", ref, tagged)
        return tagged

    def _wait_registered(self, node: str, driver: str) -> None:
        self._wait(
            f"the kubelet on {node} to register driver {driver}",
            lambda: f"kubelet registered driver {driver}" in self._plugin_log(node, 500),
            self.timeouts.ready,
            lambda: self._plugin_log(node, 15),
        )

    def _plugin_log(self, node: str, lines: int) -> str:
        pods = json.loads(self._kubectl("-n", manifest.NAMESPACE, "get", "pods", "-o", "json").stdout or "{}")
        pod = kind_farm.pod_on(pods, node)
        if pod is None:
            return ""
        proc = self._kubectl("-n", manifest.NAMESPACE, "logs", pod["metadata"]["name"], f"--tail={lines}")
        return proc.stdout if proc.returncode == 0 else proc.stderr

    def farm(self) -> FarmDeployment | None:
        state = self.state.read()
        path, mapping = state.get("farm_path"), state.get("farm_nodes")
        endpoint = dockerd.find()
        if not isinstance(path, str) or not isinstance(mapping, dict) or endpoint is None:
            return None
        seed = state.get("farm_seed")
        try:
            source = open_farm(path, seed if isinstance(seed, int) else None)
        except SpecError as exc:
            raise ClusterError(f"the deployed farm spec {path} is no longer valid:\n{exc}") from exc
        return kind_farm.deployment(
            endpoint, source.farm, {str(k): str(v) for k, v in mapping.items()}, self._plugin_log
        )

    def restart(self, component: str) -> None:
        if component not in self.restartable:
            raise ClusterError(f"kind can restart {list(self.restartable)}, not {component!r}")
        endpoint = self._endpoint_or_error()
        try:
            if component == PLUGIN:
                self._restart_plugin()
            elif component == "etcd":
                restarts.control_plane(endpoint, self.settings.control_plane, restarts.API_SERVER_AND_ETCD)
                self._wait("the API server to answer again", self._api_ready, self.timeouts.ready, self._api_seen)
            else:
                restarts.node_units(endpoint, sorted(self._containers(endpoint)), component)
        except DockerError as exc:
            raise ClusterError(f"restarting {component} on kind cluster {self.settings.name}: {exc}") from exc
        self._wait_ready(len(self._containers(endpoint)))  # the cluster's nodes, however many `up` made

    def _restart_plugin(self) -> None:
        """The driver's DaemonSet pods deleted and replaced (the kubelet deregisters the old and registers the
        new), waited for until every served node's kubelet registered the driver again."""
        deployment = self.farm()
        if deployment is None:
            raise ClusterError(f"no farm is deployed on kind cluster {self.settings.name}, so no plugin runs")
        self._kubectl_ok(
            "-n",
            manifest.NAMESPACE,
            "delete",
            "pods",
            "-l",
            f"app={manifest.NAME}",
            "--wait=true",
            timeout=self.timeouts.ready,
        )
        self._wait_rollout()
        for node in deployment.nodes:
            self._wait_registered(node.kube_node, deployment.farm.driver)

    def _wait_rollout(self) -> None:
        self._kubectl_ok(
            "-n",
            manifest.NAMESPACE,
            "rollout",
            "status",
            f"daemonset/{manifest.NAME}",
            f"--timeout={self.timeouts.ready:.0f}s",
            timeout=self.timeouts.ready + 10,
        )

    def _api_ready(self) -> bool:
        return self._kubectl("get", "--raw", "/readyz", timeout=10).returncode == 0

    def _api_seen(self) -> str:
        proc = self._kubectl("get", "--raw", "/readyz", timeout=10)
        return (proc.stdout or proc.stderr).strip()[-300:]

    def collect_logs(self, dest: Path) -> list[Path]:
        endpoint = dockerd.find()
        dest.mkdir(parents=True, exist_ok=True)
        if endpoint is not None and self._containers(endpoint):
            proc = self._kind(endpoint, "export", "logs", str(dest), "--name", self.settings.name, timeout=300)
            if proc.returncode != 0:
                (dest / "kind-export-logs.err").write_text(proc.stderr)
        for name in (self.config_file, self.state_file):
            if name.is_file():
                shutil.copy2(name, dest / name.name)
        return sorted(p for p in dest.rglob("*") if p.is_file())

    # -- up ------------------------------------------------------------------------------------------

    def _endpoint_or_error(self) -> Endpoint:
        endpoint = dockerd.find()
        if endpoint is None:
            raise ClusterError(f"no docker daemon answers, so kind cluster {self.settings.name!r} is not up")
        return endpoint

    def prepare(self, report: StepReporter | None = None) -> None:
        artifacts.prepare(self.settings, report or _quiet)

    def up(self, report: StepReporter | None = None) -> ClusterStatus:
        with self._op_lock:
            step = report or _quiet
            current = self.status()
            if current.running:
                step("already running")
                return current
            if self.state.read() or self.root.exists():
                step("cleaning up a previous, stopped cluster")
                self._down_locked(_quiet)
            facts = self._preflight()
            try:
                self._up(facts, step)
            except BaseException as exc:
                tails = self._failure_tails()
                step("failed: tearing down what was started")
                self._down_locked(_quiet)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                message = str(exc) if isinstance(exc, ClusterError) else f"kind cluster up failed: {exc}"
                raise ClusterError(f"{message}\n{tails}".rstrip()) from exc
            return self.status()

    def _preflight(self) -> detect.HostFacts:
        facts = detect.detect()
        if facts.cgroup_version == 1 and self.settings.pins.minor > featuregates.LAST_MINOR_ON_CGROUP_V1:
            raise ClusterError(
                f"Kubernetes {self.settings.pins.kubernetes} does not start on cgroup v1 (this host); use "
                f"1.{featuregates.LAST_MINOR_ON_CGROUP_V1} or older, or a cgroup v2 host"
            )
        return facts

    def _up(self, facts: detect.HostFacts, step: StepReporter) -> None:
        try:
            endpoint = dockerd.ensure(step)
        except DockerError as exc:
            raise ClusterError(str(exc)) from exc
        self.state.update(
            docker_host=endpoint.host, dockerd_ours=endpoint.ours, kubernetes=self.settings.pins.kubernetes
        )
        try:
            before = inotify.make_room(1 + self.settings.workers, step)
        except inotify.InotifyError as exc:
            raise ClusterError(str(exc)) from exc
        if before is not None:
            self.state.update(inotify_before=before)
        image = self.settings.image
        if image and not image_exists(endpoint, image):
            raise ClusterError(
                f"node image {image!r} is not in docker ({endpoint.host}), and drafarm never pulls: "
                f"`docker pull {image}` where a registry is reachable, or leave out --image for drafarm's own"
            )
        if not image:
            step(f"node image for {self.settings.pins.kubernetes} (built offline unless cached)")
            try:
                image = build_node_image(self.settings.pins.kubernetes, endpoint, step).ref
            except NodeImageError as exc:
                raise ClusterError(f"building the node image failed: {exc}") from exc
        subnet = network.ensure(endpoint, self.settings)
        self.state.update(image=image, network=self.settings.network, subnet=str(subnet))
        self.config_file.write_text(config.render(self.settings, image, facts))
        nodes = 1 + self.settings.workers
        step(f"kind create cluster {self.settings.name!r}: {nodes} node(s) on {self.settings.network} ({subnet})")
        proc = self._kind(
            endpoint,
            "create",
            "cluster",
            "--name",
            self.settings.name,
            "--config",
            str(self.config_file),
            "--kubeconfig",
            str(self.kubeconfig_file),
            "--retain",
            "--wait",
            "0s",
            timeout=self.timeouts.create,
        )
        (self.root / "kind-create.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise ClusterError(
                f"`kind create cluster` failed (exit {proc.returncode}):\n{proc.stderr.strip()[-2500:]}\n"
                f"{diagnose.hint(proc.stderr)}".rstrip()
            )
        step("pod network: a bridge per node on its pod CIDR, routes between nodes")
        self._wait(
            f"a pod CIDR on all {nodes} nodes",
            lambda: len(cni.node_nets(self._nodes_json())) == nodes,
            self.timeouts.pod_cidrs,
            lambda: str([n.name for n in cni.node_nets(self._nodes_json())]),
        )
        cni.install(endpoint, cni.node_nets(self._nodes_json()))
        step(f"waiting for {nodes} node(s) Ready")
        self._wait_ready()
        step("cluster DNS: CoreDNS answering cluster names only")
        self._kubectl_ok(
            "-n", "kube-system", "patch", "configmap", "coredns", "--type=merge", "-p", dns.configmap_patch()
        )
        self._kubectl_ok("-n", "kube-system", "rollout", "restart", "deployment/coredns")
        self._kubectl_ok(
            "-n",
            "kube-system",
            "rollout",
            "status",
            "deployment/coredns",
            f"--timeout={self.timeouts.ready:.0f}s",
            timeout=self.timeouts.ready + 10,
        )
        step(f"images the suites' pods run ({catalog.WORKLOAD.ref}) → every node")
        self.load_image(catalog.build(catalog.WORKLOAD))
        self.state.update(nodes=sorted(self._ready()))

    def _wait_ready(self, nodes: int | None = None) -> None:
        nodes = nodes or 1 + self.settings.workers

        def all_ready() -> bool:
            ready = self._ready()
            return len(ready) == nodes and all(ready.values())

        self._wait(f"{nodes} node(s) Ready", all_ready, self.timeouts.ready, lambda: str(self._ready()))

    def _failure_tails(self) -> str:
        endpoint = dockerd.find()
        if endpoint is None:
            return ""
        return diagnose.node_tails(endpoint, sorted(self._containers(endpoint)))

    # -- down ----------------------------------------------------------------------------------------

    def down(self, report: StepReporter | None = None) -> None:
        with self._op_lock:
            self._down_locked(report or _quiet)

    def _down_locked(self, step: StepReporter) -> None:
        endpoint = dockerd.find()
        if endpoint is not None:
            if self._containers(endpoint):
                step(f"kind delete cluster {self.settings.name!r}")
                proc = self._kind(endpoint, "delete", "cluster", "--name", self.settings.name, timeout=300)
                if proc.returncode != 0:
                    step(f"kind delete failed ({proc.stderr.strip()[-300:]}); removing the containers directly")
            for name in self._containers(endpoint):
                docker_cli.run(endpoint, "rm", "--force", "--volumes", name, check=False)
            device_hosts.remove(endpoint, self.settings.name)
            network.remove(endpoint, self.settings)
            if self.state.read().get("dockerd_ours"):
                dockerd.stop_if_idle(step)
        before = self.state.read().get("inotify_before")
        if isinstance(before, int):
            inotify.put_back(before, step)
        if self.root.exists():
            shutil.rmtree(self.root)

    def leftovers(self) -> list[str]:
        """What of this cluster still exists (empty after a clean `down`): for tests and `status`."""
        found = []
        endpoint = dockerd.find()
        if endpoint is not None:
            found += [f"container {n}" for n in self._containers(endpoint)]
            if network.network_subnet(endpoint, self.settings.network) is not None:
                found.append(f"docker network {self.settings.network}")
            found += device_hosts.leftovers(endpoint, self.settings.name)
        if self.root.exists():
            found.append(f"state directory {self.root}")
        return found
