"""Local cluster configuration: validation and generated files, without a cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from clusters.host.detect import HostFacts, mounted_v1_controllers
from clusters.local import cleanup, commands, featuregates, hints, render
from clusters.local.config import ConfigError, load
from clusters.local.layout import Layout

V1_HOST = HostFacts(1, False, False, False, ("cpu", "cpuacct", "cpuset", "memory", "pids"), True)
V2_SYSTEMD_HOST = HostFacts(2, True, True, True, (), True)


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for var in ("DRAFARM_NODE_CIDR", "DRAFARM_SERVICE_CIDR", "DRAFARM_APISERVER_PORT", "K8S_VERSION"):
        monkeypatch.delenv(var, raising=False)
    return load("1.34", "unit", tmp_path / "unit")


def test_defaults_are_inside_the_project_range(cfg) -> None:  # type: ignore[no-untyped-def]
    assert str(cfg.node_cidr).startswith("198.18.")
    assert str(cfg.service_cidr).startswith("198.19.")
    assert cfg.node_ip == "198.18.0.1"
    assert cfg.apiserver_url == "https://198.18.0.1:6443"
    assert cfg.pins.kubernetes == "v1.34.4"


@pytest.mark.parametrize("value", ["10.0.0.0/24", "192.168.1.0/24", "172.16.0.0/16"])
def test_networks_outside_198_18_are_refused(value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DRAFARM_NODE_CIDR", value)
    with pytest.raises(ConfigError, match=r"DRAFARM_NODE_CIDR=.*198\.18\.0\.0/15"):
        load(None, "unit", tmp_path)


def test_bad_port_names_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DRAFARM_APISERVER_PORT", "https")
    with pytest.raises(ConfigError, match="DRAFARM_APISERVER_PORT='https'"):
        load(None, "unit", tmp_path)


def test_bad_cluster_name_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DRAFARM_CLUSTER_NAME"):
        load(None, "Not_Valid", tmp_path)


def test_containerd_config_follows_the_host(cfg) -> None:  # type: ignore[no-untyped-def]
    lay = Layout(cfg.state_dir)
    v1 = render.containerd_config(cfg, lay, V1_HOST, "/usr/sbin/runc", Path("/cni"), "drafarm.local/pause:1")
    assert "restrict_oom_score_adj = true" in v1
    assert "SystemdCgroup = false" in v1
    assert "enable_cdi = true" in v1
    assert 'sandbox = "drafarm.local/pause:1"' in v1
    assert str(lay.containerd_socket) in v1
    v2 = render.containerd_config(cfg, lay, V2_SYSTEMD_HOST, "/usr/bin/runc", Path("/cni"), "x")
    assert "restrict_oom_score_adj = false" in v2
    assert "SystemdCgroup = true" in v2


def test_kubelet_config_sets_failcgroupv1_only_on_v1(cfg) -> None:  # type: ignore[no-untyped-def]
    lay = Layout(cfg.state_dir)
    gates = featuregates.dra_gates(cfg.minor)
    on_v1 = yaml.safe_load(render.kubelet_config(cfg, lay, V1_HOST, gates))
    assert on_v1["failCgroupV1"] is False
    assert on_v1["cgroupDriver"] == "cgroupfs"
    assert on_v1["featureGates"] == gates
    on_v2 = yaml.safe_load(render.kubelet_config(cfg, lay, V2_SYSTEMD_HOST, gates))
    assert "failCgroupV1" not in on_v2
    assert on_v2["cgroupDriver"] == "systemd"


def test_cni_config_uses_the_node_cidr_without_masquerade(cfg) -> None:  # type: ignore[no-untyped-def]
    conf = json.loads(render.cni_conflist(cfg, Layout(cfg.state_dir)))
    bridge = conf["plugins"][0]
    assert bridge["ipMasq"] is False
    assert bridge["ipam"]["ranges"][0][0] == {"subnet": "198.18.0.0/24", "gateway": "198.18.0.1"}


def test_alpha_dra_gates_are_on_in_every_component(cfg) -> None:  # type: ignore[no-untyped-def]
    lay = Layout(cfg.state_dir)
    gates = featuregates.dra_gates(34)
    assert gates["DRAPartitionableDevices"] and gates["ResourceHealthStatus"]
    b = commands.Binaries(*(Path(f"/bin/{n}") for n in range(11)))  # type: ignore[arg-type]
    flag = f"--feature-gates={featuregates.gates_flag(gates)}"
    for argv in (
        commands.kube_apiserver(cfg, lay, b, gates),
        commands.kube_controller_manager(cfg, lay, b, gates),
        commands.kube_scheduler(cfg, lay, b, gates),
    ):
        assert flag in argv


def test_gates_per_minor_follow_the_dra_table() -> None:
    assert "DRADeviceTaintRules" not in featuregates.dra_gates(34)
    assert "DRADeviceTaintRules" in featuregates.dra_gates(35)
    assert "DRAPrioritizedList" not in featuregates.dra_gates(36)  # GA, locked on
    with pytest.raises(featuregates.UnsupportedMinorError, match=r"1\.99"):
        featuregates.dra_gates(99)


def test_mounts_under_is_deepest_first() -> None:
    info = (
        "1 0 0:1 / / rw - ext4 /dev/vda rw\n"
        "2 1 0:2 / /c/k/pods/a rw - tmpfs tmpfs rw\n"
        "3 1 0:3 / /c/k/pods/a/vol/x rw - tmpfs tmpfs rw\n"
        "4 1 0:4 / /cx rw - tmpfs tmpfs rw\n"
    )
    assert cleanup.mounts_under(Path("/c"), info) == ["/c/k/pods/a/vol/x", "/c/k/pods/a"]


def test_v1_controllers_are_read_from_mounts() -> None:
    mounts = (
        "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,memory 0 0\n"
        "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n"
    )
    assert mounted_v1_controllers(mounts) == ("cpu", "cpuacct", "memory")


def test_hints_name_a_fix() -> None:
    assert "port" in hints.likely_fix("listen tcp 127.0.0.1:6443: bind: address already in use")
    assert "featuregates" in hints.likely_fix('unrecognized feature gate: "DRAFoo"')
