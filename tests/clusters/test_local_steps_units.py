"""The local cluster's bring-up as a list of steps, and restarts as re-runs of a component's steps (no
cluster: processes and readiness checks are recorded instead)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner

from clusters.host.detect import HostFacts
from clusters.local import components, liveness, preflight, processes, readiness, steps
from clusters.local.boot import Timeouts
from clusters.local.commands import Binaries
from clusters.local.components import COMPONENTS
from clusters.local.config import LocalConfig, load
from clusters.local.layout import Layout
from clusters.local.provider import LocalProvider
from clusters.provider import ClusterError
from harness.cli import cli

HOST = HostFacts(2, False, True, True, (), True)


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalConfig:
    for var in ("DRAFARM_NODE_CIDR", "DRAFARM_BRIDGE", "DRAFARM_NODE_NAME", "K8S_VERSION"):
        monkeypatch.delenv(var, raising=False)
    return load("1.34", "unit", tmp_path / "unit")


def _names(found: tuple[steps.Step, ...]) -> list[str]:
    return [step.name for step in found]


def test_bring_up_is_these_steps_in_this_order(cfg: LocalConfig) -> None:
    assert _names(steps.bring_up(cfg)) == [
        "recording the host's iptables chains, network namespaces, cgroups and kernel settings",
        "writing certificates and configuration",
        "network: bridge dfarm-unit with 198.18.0.1/24",
        "starting etcd",
        "starting containerd",
        "waiting for etcd to serve",
        "starting kube-apiserver",
        "waiting for containerd to serve",
        "importing the pause and workload images into containerd",
        "waiting for kube-apiserver to serve",
        "starting kube-controller-manager",
        "starting kube-scheduler",
        "starting kubelet",
        "waiting for kube-controller-manager to serve",
        "waiting for kube-scheduler to serve",
        "waiting for kubelet to serve",
        "waiting for node unit-node to be Ready",
    ]


def test_components_start_in_start_order_each_waited_for_after_its_start(cfg: LocalConfig) -> None:
    names = _names(steps.bring_up(cfg))
    started = [n.removeprefix("starting ") for n in names if n.startswith("starting ")]
    assert tuple(started) == COMPONENTS
    for component in COMPONENTS:
        assert names.index(f"starting {component}") < names.index(f"waiting for {component} to serve")
    assert names.index("waiting for etcd to serve") < names.index("starting kube-apiserver")
    assert names.index("waiting for kube-apiserver to serve") < names.index("starting kube-controller-manager")


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        ("kubelet", ["starting kubelet", "waiting for kubelet to serve", "waiting for node unit-node to be Ready"]),
        ("kube-scheduler", ["starting kube-scheduler", "waiting for kube-scheduler to serve"]),
        (
            "kube-controller-manager",
            ["starting kube-controller-manager", "waiting for kube-controller-manager to serve"],
        ),
        ("containerd", ["starting containerd", "waiting for containerd to serve"]),
        ("kube-apiserver", ["starting kube-apiserver", "waiting for kube-apiserver to serve"]),
        (
            "etcd",
            [
                "starting etcd",
                "waiting for etcd to serve",
                "starting kube-apiserver",
                "waiting for kube-apiserver to serve",
            ],
        ),
    ],
)
def test_a_restart_runs_the_bring_up_steps_of_what_it_restarts(
    cfg: LocalConfig, component: str, expected: list[str]
) -> None:
    assert _names(steps.restart_steps(cfg, component)) == expected


def test_a_restart_stops_dependents_first() -> None:
    assert steps.stopped_for_restart("etcd") == ("kube-apiserver", "etcd")
    for component in ("containerd", "kube-apiserver", "kube-scheduler", "kubelet"):
        assert steps.stopped_for_restart(component) == (component,)


def test_every_component_and_the_plugin_are_restartable() -> None:
    assert set(LocalProvider.restartable) == {*COMPONENTS, "drafarm-plugin"}
    assert set(steps.RESTARTS) == set(COMPONENTS)


class Recorder:
    """Stands in for the processes and the readiness checks: records stops and starts, in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.paths: dict[str, str] = {}

    def stop(self, _layout: Layout, component: str, _timeout: float = 10.0) -> None:
        self.calls.append(f"stop {component}")

    def start(self, _layout: Layout, component: str, argv: list[str], env: Mapping[str, str] | None = None) -> int:
        self.calls.append(f"start {component} ({Path(argv[0]).name})")
        self.paths[component] = (env or {}).get("PATH", "")
        return 4242


def _bins(root: Path) -> Binaries:
    names = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl")
    paths = {n.replace("-", "_"): root / "k8s" / n for n in names}
    return Binaries(
        **paths,
        containerd=root / "containerd" / "containerd",
        ctr=root / "containerd" / "ctr",
        crictl=root / "crictl",
        cni_bin_dir=root / "cni",
        runc=root / "runc",
    )


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[LocalProvider, Recorder]:
    """A provider whose cluster is up as far as it can tell, with every process and probe recorded."""
    for var in ("DRAFARM_NODE_CIDR", "DRAFARM_BRIDGE", "DRAFARM_NODE_NAME", "K8S_VERSION"):
        monkeypatch.delenv(var, raising=False)
    provider = LocalProvider("1.34", "unit", tmp_path / "unit")
    provider.state.update(name="unit")
    recorder = Recorder()
    monkeypatch.setattr(processes, "stop", recorder.stop)
    monkeypatch.setattr(processes, "start", recorder.start)
    monkeypatch.setattr(processes, "read_pid", lambda _layout, _component: None)
    monkeypatch.setattr(liveness, "running", lambda *_args, **_kwargs: True)
    monkeypatch.setattr(liveness, "all_alive", lambda *_args, **_kwargs: True)
    monkeypatch.setattr(preflight, "binaries", lambda _cfg, _report: _bins(tmp_path))
    monkeypatch.setattr("clusters.host.detect.detect", lambda: HOST)
    for check in ("etcd_ready", "containerd_ready", "apiserver_ready", "healthz", "kubelet_healthz", "node_ready"):
        monkeypatch.setattr(readiness, check, lambda *_args: True)
    return provider, recorder


@pytest.mark.parametrize(
    ("component", "calls"),
    [
        ("etcd", ["stop kube-apiserver", "stop etcd", "start etcd (etcd)", "start kube-apiserver (kube-apiserver)"]),
        ("kube-apiserver", ["stop kube-apiserver", "start kube-apiserver (kube-apiserver)"]),
        ("containerd", ["stop containerd", "start containerd (containerd)"]),
        ("kube-scheduler", ["stop kube-scheduler", "start kube-scheduler (kube-scheduler)"]),
        ("kubelet", ["stop kubelet", "start kubelet (kubelet)"]),
    ],
)
def test_restart_stops_by_pid_then_starts_as_up_does(
    recorded: tuple[LocalProvider, Recorder], component: str, calls: list[str]
) -> None:
    provider, recorder = recorded
    provider.restart(component)
    assert recorder.calls == calls


def test_a_restarted_containerd_finds_its_shims_and_cni_plugins(recorded: tuple[LocalProvider, Recorder]) -> None:
    provider, recorder = recorded
    provider.restart("containerd")
    bins = preflight.binaries(provider.cfg, lambda _text: None)
    path = recorder.paths["containerd"].split(":")
    assert path[:2] == [str(bins.containerd.parent), str(bins.cni_bin_dir)]
    assert ":".join(path[2:]) == components.SYSTEM_PATH


def test_a_failed_readiness_check_names_the_component_and_its_log(
    recorded: tuple[LocalProvider, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, _ = recorded
    monkeypatch.setattr(readiness, "containerd_ready", lambda *_args: False)
    provider.timeouts = Timeouts(containerd=0.0)
    with pytest.raises(ClusterError, match=r"containerd not ready after 0s \(log: .*containerd\.log\)"):
        provider.restart("containerd")


def test_restart_of_a_cluster_that_is_not_up_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("K8S_VERSION", raising=False)
    provider = LocalProvider("1.34", "unit", tmp_path / "unit")
    for component in ("kube-apiserver", "kube-scheduler"):
        with pytest.raises(ClusterError, match="is not up; nothing to restart"):
            provider.restart(component)


def test_restart_of_an_unknown_component_lists_the_restartable_ones(tmp_path: Path) -> None:
    provider = LocalProvider("1.34", "unit", tmp_path / "unit")
    with pytest.raises(ClusterError, match="cannot be restarted on the local provider; choose one of"):
        provider.restart("coredns")


def test_the_cli_lists_each_providers_restart_targets_and_refuses_others(tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(cli, ["cluster", "restart", "--help"], terminal_width=1000)
    assert "local: etcd, containerd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet" in shown.output
    assert "kind: kubelet, containerd, etcd, drafarm-plugin" in shown.output
    refused = runner.invoke(cli, ["cluster", "restart", "coredns"], env={"DRAFARM_STATE_DIR": str(tmp_path)})
    assert refused.exit_code == 2, refused.output
    assert "the local provider restarts etcd" in refused.output
