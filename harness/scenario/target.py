"""The cluster a scenario runs on: the running one, one brought up at the asked version, or any cluster
through a kubeconfig. A local cluster of another version is replaced only when asked (`replace`) and
only while no test process uses it, and it is brought back afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from clusters import paths, shared
from clusters import provider as providers
from clusters.provider import ClusterError, ClusterProvider, FarmDeployment
from clusters.toolchain import versions
from fakedevices.farm import FarmSource, open_farm
from fakedevices.plugin.control_client import PluginControl
from fakedevices.spec.problems import SpecError
from harness import device_lock
from harness.farm_lock import farm_exclusive
from harness.gates import gate_on, read_apiserver_gates
from harness.kube import Kube
from harness.scenario.logs import ComponentLogs
from harness.scenario.side_scheduler import SideScheduler

Printer = Callable[[str], None]


class TargetError(RuntimeError):
    """The scenario cannot get a cluster; the message says why and what to do."""


@dataclass
class Target:
    kube: Kube
    version: str
    driver: str
    provider: ClusterProvider | None = None
    deployment: FarmDeployment | None = None
    gates: dict[str, bool] | None = None
    logs: ComponentLogs = field(default_factory=lambda: ComponentLogs(None))
    scheduler: SideScheduler | None = None
    """A kube-scheduler of another version beside the cluster's, scheduling the scenario's pods."""

    @property
    def behaves_as(self) -> str:
        """The version whose behaviour the run shows: the side scheduler's, else the cluster's."""
        return self.scheduler.version if self.scheduler is not None else self.version

    @property
    def minor(self) -> int | None:
        try:
            return versions.minor_of(self.version)
        except versions.VersionError:
            return None

    @property
    def farm_node(self) -> str:
        if self.deployment is not None and self.deployment.nodes:
            return self.deployment.nodes[0].kube_node
        for node in self.kube.items("Node"):
            return str(node["metadata"]["name"])
        raise TargetError("the cluster has no nodes")

    def pool_of(self, node: str) -> str:
        for s in self.kube.items("ResourceSlice", fields={"spec.driver": self.driver}):
            if s["spec"].get("nodeName") == node:
                return str(s["spec"]["pool"]["name"])
        return node

    def gate(self, name: str) -> bool | None:
        return gate_on(self.gates, name, self.minor)

    def control(self, node: str) -> PluginControl:
        if self.deployment is None:
            raise ClusterError("fault steps need drafarm's farm on a provider's cluster (not --kubeconfig)")
        try:
            return self.deployment.node(node or self.farm_node).control
        except KeyError as exc:
            raise ClusterError(str(exc)) from None

    def restart(self, component: str) -> None:
        if self.provider is None:
            raise ClusterError("restart steps need a provider's cluster (not --kubeconfig)")
        if component not in self.provider.restartable:
            raise ClusterError(
                f"the {self.provider.name} provider cannot restart {component}; it restarts {self.provider.restartable}"
            )
        self.provider.restart(component)

    def repair(self) -> list[str]:
        """Restart what the scenario left stopped (a crashed component); say what could not be."""
        if self.provider is None:
            return []
        notes = []
        for component, state in self.provider.status().components.items():
            if state.startswith("running"):
                continue
            if component in self.provider.restartable:
                self.provider.restart(component)
                notes.append(f"restarted {component} (it was {state})")
            else:
                notes.append(
                    f"{component} is {state} and the {self.provider.name} provider cannot restart it: "
                    "run `drafarm cluster down` and `drafarm cluster up`"
                )
        return notes


def _running_version(kube: Kube) -> str:
    return str(kube.version().get("gitVersion", ""))


@contextmanager
def from_kubeconfig(kubeconfig: Path, driver: str) -> Iterator[Target]:
    kube = Kube(kubeconfig, field_manager="drafarm-scenario")
    version = _running_version(kube)
    if not version:
        raise TargetError(f"the API server of {kubeconfig} does not answer /version; is the cluster up?")
    yield Target(kube, version, driver, gates=read_apiserver_gates(kube))


@contextmanager
def from_provider(
    name: str,
    version: str | None,
    farm: FarmSource,
    *,
    replace: bool = False,
    keep: bool = False,
    out: Printer = print,
) -> Iterator[Target]:
    """The provider's cluster at `version` (None: whatever runs, else the default), the farm on it."""
    try:
        provider = providers.get(name, k8s_version=version)
        wanted = versions.resolve(version).kubernetes
    except (ClusterError, versions.VersionError, ValueError) as exc:
        raise TargetError(str(exc)) from None
    root = paths.state_root()
    with ExitStack() as stack:
        status = provider.status()
        if status.running and version is None:
            wanted = status.kubernetes_version or wanted
            provider = providers.get(name, k8s_version=wanted)
        elif status.running and status.kubernetes_version != wanted:
            stack.enter_context(replaced_cluster(name, status.kubernetes_version, wanted, replace, out))
        if not shared.registered(provider, root):
            if not provider.status().running:
                out(f"bringing up a {name} cluster of Kubernetes {wanted} (the first time builds it: minutes)")
                try:
                    provider.prepare(lambda text: out(f"  {text}"))  # a line per build step, not silence
                except ClusterError as exc:
                    raise TargetError(str(exc)) from None
            shared.acquire(provider, root, keep=keep)
            stack.callback(shared.release, provider, root)
        deployed = provider.farm()
        if deployed is not None and deployed.farm.name != farm.farm.name and shared.live_users(provider, root):
            raise TargetError(
                f"the running cluster serves farm {deployed.farm.name!r} to other test processes; "
                f"the scenario needs {farm.farm.name!r}: run it when the cluster is free"
            )
        deployment = provider.deploy_farm(farm)
        kube = Kube(provider.kubeconfig(), field_manager="drafarm-scenario")
        status = provider.status()
        # Scenarios change the farm (taints, faults, crashes): no suite test shares its devices meanwhile.
        stack.enter_context(device_lock.exclusive(farm.farm.driver, kube.kubeconfig))
        stack.enter_context(farm_exclusive(kube.kubeconfig))
        logs = ComponentLogs(provider)
        stack.callback(logs.close)
        gates = dict(status.feature_gates) or read_apiserver_gates(kube)
        yield Target(kube, _running_version(kube) or wanted, farm.farm.driver, provider, deployment, gates, logs)


@contextmanager
def replaced_cluster(name: str, running: str, wanted: str, replace: bool, out: Printer) -> Iterator[None]:
    """Take down the running cluster of another version for the block, and bring it back after."""
    old = providers.get(name, k8s_version=running)
    users = shared.live_users(old, paths.state_root())
    if not replace:
        raise TargetError(
            f"a {name} cluster of {running} is running and the scenario asks for {wanted}; pass --replace to take "
            "it down for the run (it is brought back afterwards), or `drafarm cluster down` first"
        )
    if users:
        raise TargetError(
            f"a {name} cluster of {running} is running and test processes {users} use it; "
            f"{wanted} can run only when it is free (one local cluster per host)"
        )
    old_farm = old.farm()
    out(f"taking down the {running} cluster for the run (it comes back afterwards)")
    old.down()
    try:
        yield
    finally:
        out(f"bringing the {running} cluster back")
        try:
            old.up()
            if old_farm is not None:
                # The provider keeps the farm, not its file: a shipped example comes back by name.
                old.deploy_farm(open_farm(old_farm.farm.name))
        except (ClusterError, SpecError) as exc:
            out(f"could not bring the {running} cluster back as it was: {exc}")
