"""The cluster a test run uses, set up once per process: our local cluster with the farm, or any
cluster given by kubeconfig, with the driver profile that says how to test its DRA driver."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clusters import paths, shared
from clusters.provider import ClusterProvider
from fakedevices.farm import build_farm
from fakedevices.model import Farm
from fakedevices.spec.loader import load_farm_spec
from harness.gates import gate_on, parse_override, read_apiserver_gates
from harness.kube import Kube
from harness.profiles import DriverProfile, load_profile

WORKLOAD_IMAGE = "drafarm.local/workload:1"


@dataclass(frozen=True)
class HarnessOptions:
    cluster: str  # "local" or "existing"
    kubeconfig: Path | None
    k8s_version: str | None
    farm: str | None
    profile: str
    keep_cluster: bool
    gates_override: str = ""
    node_cdi_dir: Path | None = None

    @staticmethod
    def from_config(config: Any) -> HarnessOptions:
        kubeconfig = config.getoption("drafarm_kubeconfig")
        cluster = "existing" if kubeconfig else config.getoption("drafarm_cluster")
        farm = config.getoption("drafarm_farm")
        return HarnessOptions(
            cluster=cluster,
            kubeconfig=Path(kubeconfig) if kubeconfig else None,
            k8s_version=config.getoption("drafarm_k8s_version") or os.environ.get("K8S_VERSION") or None,
            farm=None if farm in ("", "none") else farm,
            profile=config.getoption("drafarm_profile"),
            keep_cluster=bool(config.getoption("drafarm_keep_cluster")),
            gates_override=config.getoption("drafarm_gates") or "",
            node_cdi_dir=Path(config.getoption("drafarm_node_cdi_dir"))
            if config.getoption("drafarm_node_cdi_dir")
            else None,
        )


@dataclass
class DraEnvironment:
    options: HarnessOptions
    kube: Kube
    profile: DriverProfile
    nodes: list[str]
    minor: int | None
    gates: dict[str, bool] | None
    provider: ClusterProvider | None = None
    farm: Farm | None = None
    plugin_log: Path | None = None
    control_socket: Path | None = None
    cdi_dir: Path | None = None
    notes: list[str] = field(default_factory=list)
    busiest_snapshot: dict[str, Any] | None = None

    def gate(self, name: str) -> bool | None:
        return gate_on(self.gates, name, self.minor)

    def plugin_log_tail(self, lines: int = 20) -> str:
        if self.plugin_log is None or not self.plugin_log.exists():
            return ""
        return "\n".join(self.plugin_log.read_text(errors="replace").splitlines()[-lines:])

    @property
    def image(self) -> str:
        return self.profile.image or WORKLOAD_IMAGE


def _minor(kube: Kube) -> int | None:
    try:
        version = kube.client._client._client.get("/version").json()["minor"]
    except Exception:
        return None
    digits = "".join(ch for ch in str(version) if ch.isdigit())
    return int(digits) if digits else None


def _node_names(kube: Kube) -> list[str]:
    from lightkube.resources.core_v1 import Node

    return sorted(n.metadata.name for n in kube.client.list(Node))


def open_environment(options: HarnessOptions) -> DraEnvironment:
    profile = load_profile(options.profile)
    override = parse_override(options.gates_override)
    if options.cluster == "existing":
        assert options.kubeconfig is not None
        kube = Kube(options.kubeconfig)
        gates = read_apiserver_gates(kube.client)
        if override:
            gates = {**(gates or {}), **override}
        env = DraEnvironment(options, kube, profile, _node_names(kube), _minor(kube), gates)
        env.cdi_dir = options.node_cdi_dir
        return env
    from clusters.local import farm as local_farm
    from clusters.local.featuregates import dra_gates
    from clusters.local.provider import LocalProvider

    provider = LocalProvider(k8s_version=options.k8s_version)
    if options.keep_cluster:
        os.environ["DRAFARM_KEEP_CLUSTER"] = "1"
    shared.acquire(provider, paths.state_root())
    farm = None
    if options.farm:
        provider.deploy_farm(Path(options.farm))
        farm = build_farm(load_farm_spec(options.farm)).bind_nodes(
            {build_farm(load_farm_spec(options.farm)).nodes[0].name: provider.nodes()[0]}
        )
    kube = Kube(provider.kubeconfig())
    return DraEnvironment(
        options,
        kube,
        profile,
        provider.nodes(),
        provider.cfg.minor,
        {**dra_gates(provider.cfg.minor), **override},
        provider=provider,
        farm=farm,
        plugin_log=provider.layout.log(local_farm.PLUGIN),
        control_socket=local_farm.plugin_state_dir(provider.cfg) / "control.sock",
        cdi_dir=local_farm.CDI_DIR,
    )


def close_environment(env: DraEnvironment) -> None:
    if env.provider is not None:
        shared.release(env.provider, paths.state_root())
