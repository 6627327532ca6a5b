"""The one seam between drafarm and a cluster: a provider is a handful of methods.

`local` (clusters/local) runs real Kubernetes processes on this host. A `kind` provider fits the same
shape: `up` creates the kind cluster from a node image, `load_image` is `kind load image-archive`,
`collect_logs` is `kind export logs`. Code above `clusters/` names no provider: it gets one from `get`,
hands `deploy_farm` a farm it loaded once, and reaches each node's plugin through the `FarmDeployment`
that comes back.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fakedevices.farm import FarmSource
from fakedevices.model import Farm
from fakedevices.plugin.control_client import PluginControl

StepReporter = Callable[[str], None]
PLUGIN = "drafarm-plugin"
"""The farm's DRA kubelet plugin, as a component every provider can restart."""
"""Called with a short description as each long step begins (the CLI shows it as progress)."""


class ClusterError(RuntimeError):
    """A cluster operation failed; the message says which step, what was seen, and the likely fix."""


@dataclass(frozen=True)
class ClusterStatus:
    name: str
    provider: str
    running: bool
    kubernetes_version: str = ""
    kubeconfig: Path | None = None
    components: dict[str, str] = field(default_factory=dict)
    detail: str = ""
    feature_gates: dict[str, bool] = field(default_factory=dict)
    """The gates the provider set on every component (empty: ask the cluster)."""


@dataclass(frozen=True)
class FarmNode:
    """What the harness needs of one node of a deployed farm."""

    farm_node: str
    kube_node: str
    control: PluginControl
    """The node plugin's fault control (over a host socket, through a node container, or a virtual node's slices)."""
    log_tail: Callable[[int], str]
    """The last N lines of this node's plugin log ("" when there is none)."""
    cdi_dirs: tuple[Path, ...] = ()
    """The node's CDI directories as this host can read them (empty when it cannot)."""


@dataclass(frozen=True)
class FarmDeployment:
    """A farm running on a cluster: the farm bound to the cluster's node names, and its served nodes."""

    farm: Farm
    nodes: tuple[FarmNode, ...]
    virtual: tuple[FarmNode, ...] = ()
    """Virtual nodes (kwok): no plugin; their control reaches their published slices."""

    def node(self, kube_node: str) -> FarmNode:
        for node in (*self.nodes, *self.virtual):
            if node.kube_node == kube_node:
                return node
        virtual = f" and {len(self.virtual)} virtual nodes" if self.virtual else ""
        raise KeyError(f"node {kube_node!r} serves no farm node (served: {[n.kube_node for n in self.nodes]}{virtual})")


class ClusterProvider(abc.ABC):
    name: str = ""
    restartable: tuple[str, ...] = ()
    """Components `restart` can restart on this provider."""
    virtual_nodes: bool = False
    """Whether `deploy_farm` runs a farm's virtual nodes (node groups marked virtual, `rest_virtual`)."""

    def prepare(self, report: StepReporter | None = None) -> None:
        """Build what `up` needs (programs, images) and is not cached yet, reporting each step; a run calls
        it once before its test processes start, so a first run shows its build instead of looking hung."""
        return None

    @abc.abstractmethod
    def up(self, report: StepReporter | None = None) -> ClusterStatus:
        """Bring the cluster up to a Ready node; a no-op when it is already running."""

    @abc.abstractmethod
    def down(self, report: StepReporter | None = None) -> None:
        """Stop and remove everything `up` created; safe to repeat."""

    @abc.abstractmethod
    def status(self) -> ClusterStatus: ...

    @abc.abstractmethod
    def kubeconfig(self) -> Path:
        """Path of an admin kubeconfig for the running cluster."""

    @abc.abstractmethod
    def nodes(self) -> list[str]: ...

    @abc.abstractmethod
    def load_image(self, archive: Path) -> list[str]:
        """Import an image archive (OCI or docker-archive tarball) into every node; return its names."""

    @abc.abstractmethod
    def deploy_farm(self, source: FarmSource, report: StepReporter | None = None) -> FarmDeployment:
        """Deploy the fake device farm (emulators + DRA kubelet plugin per served node); idempotent."""

    @abc.abstractmethod
    def farm(self) -> FarmDeployment | None:
        """The farm deployed on the running cluster, if any (for a process that did not deploy it)."""

    @abc.abstractmethod
    def restart(self, component: str) -> None:
        """Restart one component (one of `restartable`) and wait until it serves again."""

    @abc.abstractmethod
    def collect_logs(self, dest: Path) -> list[Path]:
        """Copy every component's log into `dest` (for test reports); return the files written."""


PROVIDERS: dict[str, Callable[..., ClusterProvider]] = {}


def register(name: str, factory: Callable[..., ClusterProvider]) -> None:
    PROVIDERS[name] = factory


def names() -> list[str]:
    if not PROVIDERS:
        _register_builtin()
    return sorted(PROVIDERS)


def restartable(name: str) -> tuple[str, ...]:
    """The components `restart` takes on the named provider, without creating one."""
    if not PROVIDERS:
        _register_builtin()
    return tuple(getattr(PROVIDERS.get(name), "restartable", ()))


def get(name: str, **kwargs: object) -> ClusterProvider:
    """A provider by name. Every provider takes `k8s_version`, `cluster_name` and `workers` (the nodes
    the farm wants; a provider with fewer serves the farm's first nodes)."""
    if not PROVIDERS:
        _register_builtin()
    if name not in PROVIDERS:
        raise ClusterError(f"provider {name!r} is unknown; choose one of {sorted(PROVIDERS)}")
    return PROVIDERS[name](**kwargs)


def _register_builtin() -> None:
    from clusters.kind.provider import KindProvider
    from clusters.local.provider import LocalProvider

    register("local", LocalProvider)
    register("kind", KindProvider)
