"""The kind cluster's network devices as containers: one docker network per pool on its devices' /24,
the pool's nodes attached and masquerading, the driver given the key; no address outside 198.18.0.0/15."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from clusters.driver import manifest
from clusters.kind import device_hosts
from fakedevices.farm import open_farm

PROJECT_RANGE = ipaddress.ip_network("198.18.0.0/15")


def test_each_pool_gets_the_24_of_its_devices_inside_the_project_range() -> None:
    pools = {p.pool: p for p in device_hosts.pool_networks(open_farm("mixed").farm, "c1")}
    assert set(pools) == {"lobby", "dock"}
    for pool in pools.values():
        assert pool.subnet.subnet_of(PROJECT_RANGE), pool
        assert pool.network == f"drafarm-c1-{pool.pool}"
        assert all(ipaddress.ip_address(a) in pool.subnet for _, a in pool.devices)
        nodes = {pool.node_address(i) for i in range(len(pool.farm_nodes))}
        assert not nodes & {a for _, a in pool.devices}, "a node would take a device's address"
    assert pools["dock"].farm_nodes == ("gpu-large-0", "gpu-large-1")
    assert pools["lobby"].subnet != pools["dock"].subnet


def test_a_pool_node_masquerades_its_pods_traffic_to_the_devices_once() -> None:
    [pool] = [p for p in device_hosts.pool_networks(open_farm("small").farm, "c1")]
    [[sh, flag, script]] = device_hosts.node_commands(pool)
    assert (sh, flag) == ("sh", "-c")
    assert f"-C POSTROUTING -d {pool.subnet} -j MASQUERADE" in script  # checked first: idempotent
    assert f"-A POSTROUTING -d {pool.subnet} -j MASQUERADE" in script


def test_the_cluster_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    key = device_hosts.cluster_key(tmp_path)
    assert len(key) >= 32 and device_hosts.cluster_key(tmp_path) == key
    assert (tmp_path / device_hosts.KEY_FILE).stat().st_mode & 0o077 == 0


def test_with_a_key_the_driver_reaches_network_devices_through_their_hosts() -> None:
    source = open_farm("mixed")
    mapping = {"kind-worker": "gpu-large-0"}
    remote = {o["kind"]: o for o in manifest.objects(source.path, 7, mapping, "img:1", "s3cret-key")}
    assert remote["Secret"]["stringData"] == {"key": "s3cret-key"}
    pod = remote["DaemonSet"]["spec"]["template"]["spec"]
    command = pod["containers"][0]["command"][-1]
    assert manifest.REMOTE in command and "--camera-hosts" not in command
    assert {"name": "network-key", "mountPath": manifest.KEY_DIR, "readOnly": True} in pod["containers"][0][
        "volumeMounts"
    ]
    plain = {o["kind"]: o for o in manifest.objects(source.path, 7, mapping, "img:1")}
    assert "Secret" not in plain
    assert manifest.OWN_ADDRESS in plain["DaemonSet"]["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    checksum = "drafarm.dev/farm-checksum"
    annotations = [o["DaemonSet"]["spec"]["template"]["metadata"]["annotations"] for o in (remote, plain)]
    assert annotations[0][checksum] != annotations[1][checksum], "a new key must roll the driver's pods"
