"""The plugin through its real sockets, with a client that plays the kubelet."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from fakedevices.plugin.registration import SUPPORTED_VERSIONS
from tests.plugin.conftest import PluginUnderTest
from tests.plugin.kit import NODE, Claim, ClaimStore, FakeKubelet, apply_cdi, opaque, prepared_container, result

SHA = "ab" * 32


def test_registration_handshake(plugin: PluginUnderTest) -> None:
    kubelet = FakeKubelet(plugin.layout.registration_socket)
    info = kubelet.register()
    assert info.type == "DRAPlugin"
    assert info.name == "drafarm.dev"
    assert info.endpoint == str(plugin.layout.service_socket)
    assert list(info.supported_versions) == list(SUPPORTED_VERSIONS)
    assert info.supported_versions[0] == "v1.DRAPlugin"
    assert plugin.server is not None and plugin.server.registration.registered.is_set()
    kubelet.close()


def test_sockets_are_owner_only_and_removed_on_stop(plugin: PluginUnderTest) -> None:
    for path in (plugin.layout.registration_socket, plugin.layout.service_socket, plugin.layout.control_socket):
        mode = path.stat().st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) == 0o600, (path, oct(mode))
    plugin.stop()
    assert not plugin.layout.registration_socket.exists()
    assert not plugin.layout.service_socket.exists()


def test_stale_socket_is_replaced(short_tmp: Path, claims: ClaimStore) -> None:
    stale = PluginUnderTest(short_tmp, claims)
    stale.layout.registration_socket.parent.mkdir(parents=True)
    stale.layout.registration_socket.write_text("left over by a crash")
    stale.start()
    try:
        FakeKubelet(stale.layout.registration_socket).register()
    finally:
        stale.stop()


def test_prepare_gpu_gives_cdi_device_the_container_can_use(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    claim = claims.add(Claim("gpu", [result("gpu", "gpu-1")]))
    response = kubelet.prepare(claim)
    entry = response.claims[claim.uid]
    assert entry.error == ""
    [device] = entry.devices
    assert (device.pool_name, device.device_name, list(device.request_names)) == (NODE, "gpu-1", ["gpu"])
    assert device.cdi_device_ids == [f"drafarm.dev/claim={claim.uid}-gpu-1"]
    view = apply_cdi(plugin.cdi_dir, list(device.cdi_device_ids))
    assert view.device_nodes == ["/dev/drafarm/gpu-1"]
    uuid = plugin.farm.node(NODE).inventory.devices
    expected_uuid = next(d for d in uuid if d.name == "gpu-1").attributes["uuid"].value
    assert view.env["DRAFARM_GPU_1_UUID"] == expected_uuid
    run = view.client("gpu-run", "--n", "100", "--check")
    assert run.returncode == 0, run.stderr
    assert "338350" in run.stdout
    info = json.loads(view.client("gpu-info").stdout)
    assert json.dumps(info).count(str(expected_uuid)) >= 1


def test_subrequest_answers_with_base_request_name(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    claim = claims.add(Claim("alt", [result("gpu/small", "gpu-0-1g-5gb-0")]))
    [device] = kubelet.prepare(claim).claims[claim.uid].devices
    assert list(device.request_names) == ["gpu"]
    view = apply_cdi(plugin.cdi_dir, list(device.cdi_device_ids))
    info = view.client("gpu-info")
    assert "partition" in info.stdout, info.stdout


def test_time_slicing_config_reaches_the_container(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    config = opaque({"kind": "GpuConfig", "sharing": {"strategy": "TimeSlicing", "timeSlicing": {"interval": "Short"}}})
    claim = claims.add(Claim("ts", [result("gpu", "gpu-2")], [config]))
    view = prepared_container(kubelet, claim, plugin.cdi_dir)
    assert view.env["DRAFARM_GPU_2_SHARING"] == "TimeSlicing/Short"
    assert "time-sliced" in view.client("gpu-info").stdout


def test_claims_sharing_a_gpu_each_see_only_their_own_session(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    config = opaque({"kind": "GpuConfig", "sharing": {"strategy": "TimeSlicing"}})
    views = []
    for name in ("share-a", "share-b"):
        claim = claims.add(Claim(name, [result("gpu", "gpu-2")], [config]))
        views.append(prepared_container(kubelet, claim, plugin.cdi_dir))
    for view in views:
        [host_dir] = view.mounts.values()
        assert [p.name for p in Path(host_dir).iterdir()] == ["session.sock"], "another claim's session is visible"
        assert "time-sliced" in view.client("gpu-info").stdout
    assert len({tuple(v.mounts.values()) for v in views}) == 2


def test_claim_config_beats_class_config(plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore) -> None:
    from_class = opaque({"kind": "GpuConfig", "sharing": {"strategy": "TimeSlicing"}}, source="FromClass")
    from_claim = opaque({"kind": "GpuConfig", "sharing": {"strategy": "Exclusive"}})
    claim = claims.add(Claim("prec", [result("gpu", "gpu-0")], [from_class, from_claim]))
    assert prepared_container(kubelet, claim, plugin.cdi_dir).env["DRAFARM_GPU_0_SHARING"] == "Exclusive"


def test_multi_request_claim_keeps_devices_per_request(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    bitstream = opaque(
        {"kind": "FpgaConfig", "bitstream": {"name": "crc32", "family": "agilex7", "sha256": SHA}}, ["fpga"]
    )
    claim = claims.add(Claim("multi", [result("gpu", "gpu-0"), result("fpga", "fpga-0")], [bitstream]))
    devices = kubelet.prepare(claim).claims[claim.uid].devices
    by_request = {d.request_names[0]: d for d in devices}
    assert set(by_request) == {"gpu", "fpga"}
    fpga_view = apply_cdi(plugin.cdi_dir, list(by_request["fpga"].cdi_device_ids))
    assert not any(k.startswith("DRAFARM_GPU") for k in fpga_view.env)
    run = fpga_view.client("fpga-run", "--input", "hello", "--check")
    assert run.returncode == 0, run.stderr + run.stdout


def test_fpga_without_bitstream_or_wrong_family_is_a_claim_error(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    bare = claims.add(Claim("bare", [result("fpga", "fpga-0")]))
    error = kubelet.prepare(bare).claims[bare.uid].error
    assert "claim default/bare" in error and "request 'fpga'" in error and "no FpgaConfig" in error
    wrong = opaque({"kind": "FpgaConfig", "bitstream": {"name": "crc32", "family": "versal", "sha256": SHA}})
    claim = claims.add(Claim("wrong", [result("fpga", "fpga-0")], [wrong]))
    error = kubelet.prepare(claim).claims[claim.uid].error
    assert "targets family 'versal' but device 'fpga-0' is 'agilex7'" in error
    assert list(plugin.cdi_dir.glob("*.json")) == []
    assert plugin.driver.checkpoint.claims() == []


def test_bad_opaque_config_names_claim_request_and_field(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    bad = opaque({"kind": "GpuConfig", "sharing": {"strategy": "Magic"}}, ["gpu"])
    claim = claims.add(Claim("bad", [result("gpu", "gpu-0")], [bad]))
    error = kubelet.prepare(claim).claims[claim.uid].error
    assert "claim default/bad" in error
    assert "request 'gpu'" in error
    assert 'sharing.strategy: got "Magic"; allowed: Exclusive, TimeSlicing, SpacePartitioning' in error


def test_missing_device_and_missing_claim(plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore) -> None:
    gone = claims.add(Claim("gone", [result("gpu", "gpu-99")]))
    assert "no longer has (the device went away)" in kubelet.prepare(gone).claims[gone.uid].error
    ghost = Claim("ghost", [result("gpu", "gpu-0")])
    assert "does not exist in the API server" in kubelet.prepare(ghost).claims[ghost.uid].error


def test_state_that_cannot_be_written_is_a_claim_error_and_releases_the_device(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    claim = claims.add(Claim("blocked", [result("gpu", "gpu-2")]))
    squatter = plugin.driver.cdi.path_for(claim.uid)
    squatter.mkdir(parents=True)
    (squatter / "keep").write_text("a directory where the claim's CDI spec goes: the rename fails")
    error = kubelet.prepare(claim).claims[claim.uid].error
    assert "claim default/blocked: the plugin could not write its state" in error
    assert "free space or fix permissions" in error
    assert plugin.driver.runner.get("gpu-2").session_ids == []
    assert plugin.driver.checkpoint.get(claim.uid) is None
    (squatter / "keep").unlink()
    squatter.rmdir()
    [device] = kubelet.prepare(claim).claims[claim.uid].devices
    assert device.device_name == "gpu-2"


def test_claim_uid_mismatch(plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore) -> None:
    claim = claims.add(Claim("recreated", [result("gpu", "gpu-0")]))
    old = Claim("recreated", claim.results, uid="00000000-0000-0000-0000-000000000000")
    assert "re-created" in kubelet.prepare(old).claims[old.uid].error


def test_v1beta1_has_no_share_id(plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore) -> None:
    share = "11111111-2222-3333-4444-555555555555"
    claim = claims.add(Claim("shared", [result("gpu", "gpu-3", shareID=share, consumedCapacity={"memory": "8Gi"})]))
    [v1_device] = kubelet.prepare(claim).claims[claim.uid].devices
    assert v1_device.share_id == share
    [beta_device] = kubelet.prepare(claim, version="v1beta1").claims[claim.uid].devices
    assert not hasattr(beta_device, "share_id")
    view = apply_cdi(plugin.cdi_dir, list(v1_device.cdi_device_ids))
    refused = view.client("gpu-alloc", "9Gi")
    assert refused.returncode == 1 and "out of memory" in (refused.stdout + refused.stderr)
    assert view.client("gpu-alloc", "7Gi").returncode == 0


def test_admin_access_monitors_a_device_without_disturbing_its_owner(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    bitstream = opaque({"kind": "FpgaConfig", "bitstream": {"name": "reverse", "family": "agilex7", "sha256": SHA}})
    owner = claims.add(Claim("owner", [result("fpga", "fpga-0")], [bitstream]))
    monitor = claims.add(Claim("monitor", [result("fpga", "fpga-0", adminAccess=True)]))
    [owned] = kubelet.prepare(owner).claims[owner.uid].devices
    [watched] = kubelet.prepare(monitor).claims[monitor.uid].devices
    admin_view = apply_cdi(plugin.cdi_dir, list(watched.cdi_device_ids))
    assert admin_view.env["DRAFARM_FPGA_0_ADMIN"] == "true"
    assert admin_view.device_nodes == ["/dev/drafarm/fpga-0"]
    assert not any(k.endswith("_SOCKET") for k in admin_view.env)
    assert kubelet.unprepare(monitor).claims[monitor.uid].error == ""
    owner_view = apply_cdi(plugin.cdi_dir, list(owned.cdi_device_ids))
    run = owner_view.client("fpga-run", "--input", "abc")
    assert run.returncode == 0 and "cba" in run.stdout, run.stdout + run.stderr


def test_one_claim_using_a_device_and_watching_it_with_admin_access_gets_two_cdi_devices(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    """Two results for one device (a request that uses it, another that monitors it) are two CDI devices:
    one name for both would make the spec invalid, or one container's edits the other's."""
    both = claims.add(Claim("both", [result("use", "gpu-1"), result("watch", "gpu-1", adminAccess=True)]))
    devices = kubelet.prepare(both).claims[both.uid].devices
    ids = [cdi_id for device in devices for cdi_id in device.cdi_device_ids]
    assert len(ids) == len(set(ids)) == 2, ids
    used = apply_cdi(plugin.cdi_dir, [ids[0]])
    watched = apply_cdi(plugin.cdi_dir, [ids[1]])
    assert any(k.endswith("_SOCKET") for k in used.env) and not any(k.endswith("_SOCKET") for k in watched.env)
    assert watched.env["DRAFARM_GPU_1_ADMIN"] == "true"
