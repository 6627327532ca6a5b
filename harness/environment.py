"""The cluster a test run uses, set up once per process: a provider's cluster with the farm, or any
cluster given by kubeconfig, with the driver profile that says how to test its DRA driver.

Every path the user gave (farm spec, profile, kubeconfig, CDI directories, driver log) is resolved here,
against the directory the run started in, and checked before any cluster is touched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clusters import paths, shared
from clusters import provider as providers
from clusters.log_tail import read_tail
from clusters.provider import ClusterError, ClusterProvider, FarmDeployment, FarmNode
from fakedevices.farm import FarmSource, open_farm
from fakedevices.model import Farm
from fakedevices.plugin.control_client import PluginControl
from fakedevices.plugin.layout import CDI_SPEC_DIRS
from fakedevices.spec.problems import SpecError
from harness.farm_lock import farm_exclusive
from harness.gates import gate_on, parse_override, read_apiserver_gates
from harness.kube import Kube
from harness.profiles import DriverProfile, load_profile

WORKLOAD_IMAGE = "drafarm.local/workload:1"
EXISTING = "existing"
_RUNTIME_CDI_DIRS = ", ".join(map(str, CDI_SPEC_DIRS))


class OptionError(ValueError):
    """A run option names something that is not there; the message says which option and the fix."""


@dataclass(frozen=True)
class HarnessOptions:
    cluster: str  # a provider name, or "existing"
    kubeconfig: Path | None
    k8s_version: str | None
    farm: FarmSource | None
    profile: DriverProfile
    keep_cluster: bool
    gates_override: str = ""
    node_cdi_dirs: tuple[Path, ...] = ()
    driver_log: Path | None = None
    image: str | None = None
    nodes: int | None = None

    @staticmethod
    def from_config(config: Any) -> HarnessOptions:
        """Read and check the run's options; raises `OptionError` naming the option and the fix."""

        def opt(name: str) -> Any:
            return config.getoption(name)

        base = Path(config.invocation_params.dir)
        kubeconfig = _existing_file("--drafarm-kubeconfig", _absolute(opt("drafarm_kubeconfig"), base))
        cluster = EXISTING if kubeconfig else str(opt("drafarm_cluster"))
        known = providers.names()
        if cluster not in (*known, EXISTING):
            raise OptionError(f"--drafarm-cluster {cluster!r}: choose a provider ({', '.join(known)}) or {EXISTING!r}")
        if cluster == EXISTING and kubeconfig is None:
            raise OptionError("--drafarm-cluster existing needs --drafarm-kubeconfig PATH")
        farm = _farm(opt("drafarm_farm"), base)
        return HarnessOptions(
            cluster=cluster,
            kubeconfig=kubeconfig,
            k8s_version=opt("drafarm_k8s_version") or None,
            farm=farm,
            profile=_profile(str(opt("drafarm_profile")), base, farm.farm.name if farm else None),
            keep_cluster=bool(opt("drafarm_keep_cluster")),
            gates_override=opt("drafarm_gates") or "",
            node_cdi_dirs=_cdi_dirs(opt("drafarm_node_cdi_dir") or (), base),
            driver_log=_absolute(opt("drafarm_driver_log"), base),
            image=opt("drafarm_image") or None,
            nodes=_nodes(opt("drafarm_nodes")),
        )

    @property
    def workers(self) -> int | None:
        """The nodes to ask the provider for: one per farm node, at most --drafarm-nodes."""
        wanted = len(self.farm.farm.nodes) if self.farm is not None else None
        if self.nodes is None:
            return wanted
        return self.nodes if wanted is None else min(wanted, self.nodes)

    @property
    def workload_image(self) -> str:
        """The image the suites' pods run: --drafarm-image, else the profile's, else drafarm's own."""
        return self.image or self.profile.image or WORKLOAD_IMAGE


def _absolute(value: str | None, base: Path) -> Path | None:
    """`value` as an absolute path, relative to `base` (where the user typed it)."""
    return (base / Path(value).expanduser()).absolute() if value else None


def _existing_file(option: str, path: Path | None) -> Path | None:
    if path is not None and not path.is_file():
        raise OptionError(f"{option} {path}: no such file; give the path of an existing file")
    return path


def _named_or_path(value: str, base: Path) -> str:
    """A path relative to `base` when it exists there, else the value as given (a built-in name)."""
    candidate = _absolute(value, base)
    return str(candidate) if candidate is not None and candidate.exists() else value


def _nodes(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        nodes = int(str(value))
    except ValueError:
        nodes = 0
    if nodes < 1:
        raise OptionError(f"--drafarm-nodes {value!r}: give a whole number of nodes, 1 or more")
    return nodes


def _farm(value: str | None, base: Path) -> FarmSource | None:
    if value in (None, "", "none"):
        return None
    try:
        return open_farm(_named_or_path(str(value), base))
    except SpecError as exc:
        raise OptionError(f"--drafarm-farm {value}:\n{exc}") from exc


def _profile(value: str, base: Path, farm: str | None) -> DriverProfile:
    try:
        return load_profile(_named_or_path(value, base), farm)
    except SpecError as exc:
        raise OptionError(f"--drafarm-profile {value}:\n{exc}") from exc


def _cdi_dirs(values: Sequence[str], base: Path) -> tuple[Path, ...]:
    dirs = []
    for value in values:
        for part in str(value).split(","):
            path = _absolute(part.strip(), base)
            if path is None:
                continue
            if not path.is_dir():
                raise OptionError(
                    f"--drafarm-node-cdi-dir {part}: no such directory (resolved to {path}); give a directory "
                    f"this host can read where the node's runtime looks for CDI specs ({_RUNTIME_CDI_DIRS})"
                )
            dirs.append(path)
    return tuple(dirs)


@dataclass
class DraEnvironment:
    options: HarnessOptions
    kube: Kube
    profile: DriverProfile
    nodes: list[str]
    minor: int | None
    gates: dict[str, bool] | None
    provider: ClusterProvider | None = None
    deployment: FarmDeployment | None = None
    cdi_dirs: tuple[Path, ...] = ()
    notes: list[str] = field(default_factory=list)
    busiest_snapshot: dict[str, Any] | None = None

    def gate(self, name: str) -> bool | None:
        return gate_on(self.gates, name, self.minor)

    @property
    def farm(self) -> Farm | None:
        return self.deployment.farm if self.deployment is not None else None

    @property
    def control(self) -> PluginControl | None:
        """Fault control of the farm's first served node (None when this run tests another driver)."""
        node = self._first_node()
        return node.control if node is not None else None

    @property
    def control_node(self) -> str | None:
        """The cluster node whose plugin `control` reaches: tests that inject faults put their pods there."""
        node = self._first_node()
        return node.kube_node if node is not None else None

    def _first_node(self) -> FarmNode | None:
        return self.deployment.nodes[0] if self.deployment is not None and self.deployment.nodes else None

    def plugin_log_tail(self, lines: int = 20) -> str:
        """The driver's log tail for diagnostics: the farm's plugin, or the file `--drafarm-driver-log` names."""
        log = self.options.driver_log
        if log is not None:
            try:
                return read_tail(log, lines)
            except OSError as exc:
                return f"<cannot read --drafarm-driver-log {log}: {exc.strerror}>"
        node = self._first_node()
        return node.log_tail(lines) if node is not None else ""

    @property
    def image(self) -> str:
        return self.options.workload_image


def _minor(kube: Kube) -> int | None:
    try:
        version = kube.version()["minor"]
    except Exception:
        return None
    digits = "".join(ch for ch in str(version) if ch.isdigit())
    return int(digits) if digits else None


def _node_names(kube: Kube) -> list[str]:
    from lightkube.resources.core_v1 import Node

    return sorted(n.metadata.name for n in kube.client.list(Node))


def open_environment(options: HarnessOptions) -> DraEnvironment:
    override = parse_override(options.gates_override)
    if options.cluster == EXISTING:
        assert options.kubeconfig is not None
        kube = Kube(options.kubeconfig)
        gates = read_apiserver_gates(kube)
        if override:
            gates = {**(gates or {}), **override}
        env = DraEnvironment(options, kube, options.profile, _node_names(kube), _minor(kube), gates)
        env.cdi_dirs = options.node_cdi_dirs
        return env
    provider = providers.get(options.cluster, k8s_version=options.k8s_version, workers=options.workers)
    shared.acquire(provider, paths.state_root(), keep=options.keep_cluster)
    try:
        deployment = None
        if options.farm:
            with farm_exclusive(provider.kubeconfig()):  # not while a test has deployed another farm
                deployment = provider.deploy_farm(options.farm)
        kube = Kube(provider.kubeconfig())
        status = provider.status()
    except ClusterError:
        shared.release(provider, paths.state_root())
        raise
    gates = {**status.feature_gates, **override} if status.feature_gates else read_apiserver_gates(kube)
    served = deployment.nodes if deployment is not None else ()
    cdi_dirs = options.node_cdi_dirs or tuple(d for node in served for d in node.cdi_dirs)
    return DraEnvironment(
        options,
        kube,
        options.profile,
        provider.nodes(),
        _minor(kube),
        gates,
        provider=provider,
        deployment=deployment,
        cdi_dirs=tuple(dict.fromkeys(cdi_dirs)),
    )


def close_environment(env: DraEnvironment) -> None:
    if env.provider is not None:
        shared.release(env.provider, paths.state_root())
