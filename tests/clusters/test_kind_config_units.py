"""The kind provider's configuration: what the host needs is applied only where detected, networks stay in
198.18.0.0/15, kind's node names, and the pod network's config and routes."""

from __future__ import annotations

import ipaddress
import json

import pytest
import yaml

from clusters.host.detect import HostFacts
from clusters.kind import cni, config
from clusters.kind.config import KindConfigError

PROJECT = ipaddress.ip_network("198.18.0.0/15")
LOCAL_RANGES = [ipaddress.ip_network(n) for n in ("198.18.0.0/24", "198.19.0.0/24", "198.18.128.0/24")]


def _facts(cgroup: int = 2, oom: bool = True) -> HostFacts:
    return HostFacts(
        cgroup_version=cgroup,
        systemd_init=True,
        can_lower_oom_score_adj=oom,
        has_cap_sys_resource=oom,
        v1_controllers=(),
        is_root=True,
    )


def _render(facts: HostFacts, workers: int = 2) -> dict[str, object]:
    settings = config.load(None, "t1", workers, None, {"DRADeviceTaints": True})
    loaded = yaml.safe_load(config.render(settings, "img:1", facts))
    assert isinstance(loaded, dict)
    return loaded


def test_a_cgroup_v2_host_that_allows_everything_gets_no_workarounds() -> None:
    cfg = _render(_facts(cgroup=2, oom=True))
    assert "containerdConfigPatches" not in cfg
    (kubelet,) = cfg["kubeadmConfigPatches"]  # type: ignore[misc]
    assert yaml.safe_load(kubelet) == {"kind": "KubeletConfiguration", "syncFrequency": "10s"}


def test_this_machines_limits_are_patched_in_when_detected() -> None:
    cfg = _render(_facts(cgroup=1, oom=False))
    (containerd,) = cfg["containerdConfigPatches"]  # type: ignore[misc]
    assert "restrict_oom_score_adj = true" in containerd
    (kubelet,) = cfg["kubeadmConfigPatches"]  # type: ignore[misc]
    assert yaml.safe_load(kubelet) == {"kind": "KubeletConfiguration", "syncFrequency": "10s", "failCgroupV1": False}


def test_one_control_plane_and_the_workers_asked_for_without_kindnetd() -> None:
    cfg = _render(_facts(), workers=3)
    roles = [n["role"] for n in cfg["nodes"]]  # type: ignore[attr-defined]
    assert roles == ["control-plane", "worker", "worker", "worker"]
    net = cfg["networking"]
    assert isinstance(net, dict) and net["disableDefaultCNI"] is True
    assert cfg["featureGates"] == {"DRADeviceTaints": True}


def test_every_range_is_inside_the_project_range_and_apart_from_the_others() -> None:
    ranges = [config.NODE_SUBNETS, config.POD_SUBNET, config.SERVICE_SUBNET]
    assert all(r.subnet_of(PROJECT) for r in ranges)  # type: ignore[arg-type]
    for i, a in enumerate(ranges + LOCAL_RANGES):
        for b in (ranges + LOCAL_RANGES)[i + 1 :]:
            assert not a.overlaps(b), (a, b)  # type: ignore[arg-type]


def test_the_node_network_takes_the_first_free_slot_or_the_pinned_one() -> None:
    assert str(config.pick_subnet([])) == "198.18.160.0/24"
    assert str(config.pick_subnet(["198.18.160.0/24", "fd00::/64", "198.18.161.0/25"])) == "198.18.162.0/24"
    assert str(config.pick_subnet([], "198.18.170.0/24")) == "198.18.170.0/24"
    with pytest.raises(KindConfigError, match=r"198\.18\.0\.0/15"):
        config.pick_subnet([], "10.0.0.0/24")


def test_names_and_worker_counts_are_checked() -> None:
    settings = config.load(None, "kind", 3)
    assert settings.worker_names() == ["kind-worker", "kind-worker2", "kind-worker3"]
    assert settings.network == "drafarm-kind"
    with pytest.raises(KindConfigError, match="cluster name"):
        config.load(None, "Bad_Name", 1)
    with pytest.raises(KindConfigError, match="worker nodes"):
        config.load(None, "ok", config.MAX_WORKERS + 1)


def test_pod_network_config_and_routes_to_every_other_node() -> None:
    nodes_json = {
        "items": [
            {
                "metadata": {"name": n},
                "spec": {"podCIDR": cidr},
                "status": {"addresses": [{"type": "Hostname", "address": n}, {"type": "InternalIP", "address": ip}]},
            }
            for n, cidr, ip in (
                ("c-control-plane", "198.18.192.0/24", "198.18.160.2"),
                ("c-worker", "198.18.193.0/24", "198.18.160.3"),
            )
        ]
        + [{"metadata": {"name": "c-worker2"}, "spec": {}, "status": {"addresses": []}}]
    }
    nets = cni.node_nets(nodes_json)
    assert [n.name for n in nets] == ["c-control-plane", "c-worker"]
    assert cni.routes_for(nets[0], nets) == [["ip", "route", "replace", "198.18.193.0/24", "via", "198.18.160.3"]]
    conf = json.loads(cni.conflist("198.18.193.0/24"))
    bridge = conf["plugins"][0]
    assert bridge["type"] == "bridge" and bridge["ipam"]["ranges"] == [[{"subnet": "198.18.193.0/24"}]]


def test_a_node_reaches_only_its_pools_cameras() -> None:
    from clusters.kind import farm as kind_farm
    from fakedevices.farm import open_farm

    farm = open_farm("mixed").farm
    dock = kind_farm.camera_addresses(farm, "gpu-large-0")
    assert dock and all(a.startswith("198.19.") for a in dock)
    assert not set(dock) & set(kind_farm.camera_addresses(farm, "gpu-small-0"))
    assert kind_farm.device_network_commands() == [["ip", "route", "replace", "unreachable", "198.19.0.0/16"]]
    assert kind_farm.node_map(farm, ["w1", "w2"]) == {"w1": "gpu-large-0", "w2": "gpu-large-1"}
