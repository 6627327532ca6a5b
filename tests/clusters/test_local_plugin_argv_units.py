"""The local cluster's plugin command line, and the one of a second instance started beside it (an upgrade)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusters.local import farm as local_farm
from clusters.local.config import LocalConfig, load
from clusters.local.layout import Layout
from fakedevices.farm import open_farm


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalConfig:
    for var in ("DRAFARM_NODE_CIDR", "DRAFARM_BRIDGE", "DRAFARM_NODE_NAME", "K8S_VERSION"):
        monkeypatch.delenv(var, raising=False)
    return load("1.34", "unit", tmp_path / "unit")


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def test_a_second_instance_shares_the_node_and_state_dir_but_not_the_metrics_port(cfg: LocalConfig) -> None:
    layout = Layout(cfg.state_dir)
    source = open_farm("small")
    plain = local_farm.plugin_argv(cfg, layout, source, layout.kubelet_root)
    second = local_farm.plugin_argv(cfg, layout, source, layout.kubelet_root, instance="v2")
    assert _option(plain, "--metrics-port") == str(cfg.ports.plugin_metrics) and "--instance" not in plain
    assert _option(second, "--instance") == "v2" and "--metrics-port" not in second
    for shared in ("--node", "--kube-node", "--farm", "--state-dir", "--kubelet-root", "--cdi-dir", "--camera-hosts"):
        assert _option(plain, shared) == _option(second, shared), shared
