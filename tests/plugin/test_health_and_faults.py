"""The health stream and the fault-control API, through the real sockets and the `drafarm fault` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fakedevices.plugin.instance_lock import AlreadyRunning, InstanceLock
from fakedevices.plugin.node_service import HEALTH_STREAMS
from fakedevices.plugin.sockets import MAX_WORKERS
from fakedevices.proto.stubs import dra_v1_pb2 as dpb
from fakedevices.proto.stubs import health_v1alpha1_pb2 as hpb
from tests.plugin.conftest import PluginUnderTest
from tests.plugin.kit import (
    NODE,
    Claim,
    ClaimStore,
    FakeKubelet,
    prepared_container,
    result,
    watching_health,
)


def _fault(plugin: PluginUnderTest, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "fault", "--control-socket", str(plugin.layout.control_socket), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _health_of(message: Any) -> dict[str, int]:
    return {d.device.device_name: d.health for d in message.devices}


def test_health_stream_sends_complete_list_then_changes_within_a_second(
    plugin: PluginUnderTest, kubelet: FakeKubelet
) -> None:
    with watching_health(kubelet) as stream:
        first = next(stream)
        published = {d.name for pool in plugin.driver.inventory.pools.values() for d in pool.inventory.devices}
        assert set(_health_of(first)) == published
        assert all(d.device.pool_name in (NODE, "lobby") for d in first.devices)
        assert set(_health_of(first).values()) == {hpb.HEALTHY}
        started = time.monotonic()
        changed = _fault(plugin, "set-health", "gpu-1", "unhealthy", "--reason", "ECC")
        assert changed.returncode == 0, changed.stderr
        update = next(stream)
        assert time.monotonic() - started < 5
        health = _health_of(update)
        assert health["gpu-1"] == hpb.UNHEALTHY
        assert health["gpu-1-1g-5gb-0"] == hpb.UNHEALTHY  # partitions share the card
        assert health["gpu-0"] == hpb.HEALTHY
        assert len(health) == len(published)


def test_unhealthy_gpu_fails_the_workload_job(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    claim = claims.add(Claim("sick", [result("gpu", "gpu-2")]))
    view = prepared_container(kubelet, claim, plugin.cdi_dir)
    assert view.client("gpu-run", "--n", "5").returncode == 0
    assert _fault(plugin, "set-health", "gpu-2", "unhealthy").returncode == 0
    failed = view.client("gpu-run", "--n", "5")
    assert failed.returncode == 1 and "unhealthy" in failed.stdout + failed.stderr
    assert _fault(plugin, "set-health", "gpu-2", "healthy").returncode == 0
    assert view.client("gpu-run", "--n", "5").returncode == 0


def test_open_health_streams_leave_prepares_their_workers(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    assert HEALTH_STREAMS >= MAX_WORKERS  # as many streams as would take every worker if they shared them
    request = hpb.NodeWatchResourcesRequest()
    started = time.monotonic()
    streams = [kubelet.health().NodeWatchResources(request, timeout=30) for _ in range(MAX_WORKERS)]
    try:
        for stream in streams:
            assert _health_of(next(stream))  # each stream is being served: it holds a thread now
        claim = claims.add(Claim("beside-streams", [result("gpu", "gpu-0")]))
        for _ in range(2 * MAX_WORKERS):
            request = dpb.NodePrepareResourcesRequest(
                claims=[dpb.Claim(namespace=claim.namespace, uid=claim.uid, name=claim.name)]
            )
            answer = kubelet.v1().NodePrepareResources(request, timeout=5)  # fails, not hangs
            assert not answer.claims[claim.uid].error
        assert not kubelet.unprepare(claim).claims[claim.uid].error
        assert time.monotonic() - started < 15, "a stream or a prepare waited for a thread"
    finally:
        for stream in streams:
            stream.cancel()


def test_transient_prepare_failures_then_success(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    assert _fault(plugin, "fail-prepares", "--count", "2").returncode == 0
    claim = claims.add(Claim("flaky", [result("gpu", "gpu-0")]))
    errors = [kubelet.prepare(claim).claims[claim.uid].error for _ in range(3)]
    assert "transient fault injected" in errors[0] and "transient fault injected" in errors[1]
    assert errors[2] == ""


def test_permanent_failure_until_cleared(plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore) -> None:
    assert _fault(plugin, "fail-prepares", "--permanent", "--message", "firmware hang").returncode == 0
    claim = claims.add(Claim("doomed", [result("gpu", "gpu-0")]))
    for _ in range(3):
        error = kubelet.prepare(claim).claims[claim.uid].error
        assert "claim default/doomed: firmware hang (permanent fault" in error
    status = json.loads(_fault(plugin, "status").stdout)
    assert status["faults"]["fail_all_prepares"] is True
    assert _fault(plugin, "clear").returncode == 0
    assert kubelet.prepare(claim).claims[claim.uid].error == ""


def test_delayed_prepare(plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore) -> None:
    assert _fault(plugin, "delay-prepares", "0.5").returncode == 0
    claim = claims.add(Claim("slow", [result("gpu", "gpu-0")]))
    done = threading.Event()
    threading.Thread(target=lambda: (kubelet.prepare(claim), done.set()), daemon=True).start()
    assert not done.wait(0.2)
    assert done.wait(10)


def test_skip_cdi_spec_and_leaky_unprepare_bugs(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    assert _fault(plugin, "driver-bug", "skip-cdi-spec").returncode == 0
    claim = claims.add(Claim("nospec", [result("gpu", "gpu-0")]))
    assert kubelet.prepare(claim).claims[claim.uid].error == ""
    assert list(plugin.cdi_dir.glob("*.json")) == []
    assert _fault(plugin, "driver-bug", "skip-cdi-spec", "--off").returncode == 0
    assert _fault(plugin, "driver-bug", "leak-on-unprepare").returncode == 0
    other = claims.add(Claim("leaky", [result("gpu", "gpu-1")]))
    kubelet.prepare(other)
    kubelet.unprepare(other)
    assert len(list(plugin.cdi_dir.glob("*.json"))) == 1


def test_fault_cli_errors_are_clear(plugin: PluginUnderTest) -> None:
    bad = _fault(plugin, "set-health", "gpu-77", "unhealthy")
    assert bad.returncode == 1 and "no device 'gpu-77'" in bad.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "harness", "fault", "--control-socket", "/nonexistent.sock", "status"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1 and "is `drafarm plugin run` running" in missing.stderr


def test_second_plugin_on_the_same_state_dir_is_refused(short_tmp: Path) -> None:
    first = InstanceLock(short_tmp / "state")
    try:
        with pytest.raises(AlreadyRunning) as err:
            InstanceLock(short_tmp / "state")
        assert f"pid {os.getpid()}" in str(err.value) and "--state-dir" in str(err.value)
        assert "--instance" in str(err.value)
    finally:
        first.release()
    InstanceLock(short_tmp / "state").release()


def test_health_stream_resends_the_complete_list_while_nothing_changes(
    plugin: PluginUnderTest, kubelet: FakeKubelet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kubelet reads a device unreported for its health timeout (30 s) as Unknown: a quiet plugin
    must keep reporting, or every healthy device of a long-running pod shows Unknown."""
    from fakedevices.plugin.node_service import HealthService

    monkeypatch.setattr(HealthService, "resend_seconds", 1.0)
    stream = kubelet.health().NodeWatchResources(hpb.NodeWatchResourcesRequest(), timeout=8)  # fails, not hangs
    try:
        first, again = next(stream), next(stream)
    finally:
        stream.cancel()
    assert _health_of(again) == _health_of(first)
