"""Prepare and unprepare are idempotent, work from the checkpoint alone, and clean up after themselves."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

from tests.plugin.conftest import PluginUnderTest
from tests.plugin.kit import Claim, ClaimStore, FakeKubelet, apply_cdi, opaque, prepared_container, result


def test_repeated_prepare_returns_the_same_devices(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    claim = claims.add(Claim("again", [result("gpu", "gpu-0")]))
    first = kubelet.prepare(claim).claims[claim.uid]
    second = kubelet.prepare(claim).claims[claim.uid]
    assert first == second
    assert len(list(plugin.cdi_dir.glob("*.json"))) == 1


def test_unprepare_removes_cdi_and_session_even_after_claim_is_deleted(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    claim = claims.add(Claim("bye", [result("gpu", "gpu-1")]))
    view = prepared_container(kubelet, claim, plugin.cdi_dir)
    claims.delete(claim)
    response = kubelet.unprepare(claim)
    assert response.claims[claim.uid].error == ""
    assert list(plugin.cdi_dir.glob("*.json")) == []
    assert plugin.driver.runner.get("gpu-1").session_ids == []
    assert view.client("gpu-run", "--n", "3").returncode != 0
    assert plugin.driver.checkpoint.claims() == []


def test_unprepare_of_unknown_claim_succeeds(kubelet: FakeKubelet) -> None:
    stranger = Claim("never-prepared", [])
    assert kubelet.unprepare(stranger).claims[stranger.uid].error == ""


def test_restart_keeps_prepared_claims_and_devices_working(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    bitstream = opaque(
        {"kind": "FpgaConfig", "bitstream": {"name": "reverse", "family": "agilex7", "sha256": "c" * 64}}
    )
    claim = claims.add(Claim("durable", [result("gpu", "gpu-0"), result("fpga", "fpga-0")], [bitstream]))
    before = kubelet.prepare(claim).claims[claim.uid]
    ids = [i for d in before.devices for i in d.cdi_device_ids]
    plugin.stop()
    claims.delete(claim)
    for spec in plugin.cdi_dir.glob("*.json"):
        spec.unlink()  # lost with a tmpfs /var/run on reboot: the restart writes it again
    plugin.start()
    assert len(list(plugin.cdi_dir.glob("*.json"))) == 1
    fresh = FakeKubelet(plugin.layout.registration_socket)
    fresh.register()
    after = fresh.prepare(claim).claims[claim.uid]
    assert after == before
    view = apply_cdi(plugin.cdi_dir, ids)
    assert view.client("gpu-run", "--n", "10", "--check").returncode == 0
    run = view.client("fpga-run", "--input", "abc")
    assert run.returncode == 0 and "cba" in run.stdout, run.stdout + run.stderr
    assert fresh.unprepare(claim).claims[claim.uid].error == ""
    assert list(plugin.cdi_dir.glob("*.json")) == []
    fresh.close()


def test_concurrent_prepares_of_many_claims(plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore) -> None:
    partitions = [d.name for d in plugin.farm.nodes[0].devices if d.attributes["type"].value == "partition"][:12]
    batch = [claims.add(Claim(f"c{i}", [result("gpu", name)])) for i, name in enumerate(partitions)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(lambda c: kubelet.prepare(c).claims[c.uid], batch + batch))
    assert all(o.error == "" for o in outcomes), [o.error for o in outcomes if o.error]
    assert len(list(plugin.cdi_dir.glob("*.json"))) == len(batch)
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        errors = list(pool.map(lambda c: kubelet.unprepare(c).claims[c.uid].error, batch))
    assert errors == [""] * len(batch)
    assert list(plugin.cdi_dir.glob("*.json")) == []


def test_the_mounted_session_directory_outlives_a_restart_and_goes_with_unprepare(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    claim = claims.add(Claim("mounted", [result("gpu", "gpu-1")]))
    [host_dir] = prepared_container(kubelet, claim, plugin.cdi_dir).mounts.values()
    mounted = Path(host_dir).stat().st_ino  # a container's bind mount holds this directory, not its path
    stray = Path(host_dir).parent / "s-0000000000000000"
    plugin.stop()
    stray.mkdir()  # a session directory no checkpointed claim owns (a crash before checkpointing)
    plugin.start()
    assert Path(host_dir).stat().st_ino == mounted
    assert (Path(host_dir) / "session.sock").is_socket()
    assert not stray.exists()
    fresh = FakeKubelet(plugin.layout.registration_socket)
    fresh.register()
    assert fresh.unprepare(claim).claims[claim.uid].error == ""
    assert not Path(host_dir).exists()
    fresh.close()
