"""Camera emulator over real TCP: identity in frames, bandwidth shares, exclusive control, health."""

from __future__ import annotations

import json

import pytest

from fakedevices.emulator import EmulatorRunner, Health, SessionError
from fakedevices.kinds.camera.emulator import CameraEmulator
from tests.emulators.conftest import CAMERA, ClientRun, ClientStart

FRAME_BYTES = CAMERA.bandwidth_mbps * 125_000 // CAMERA.fps  # 20 000


def test_frames_carry_identity_and_increasing_counter(runner: EmulatorRunner, client: ClientRun) -> None:
    camera = runner.get_as("cam-0", CameraEmulator)
    endpoint = camera.open_session("claim-view")
    assert endpoint.address is not None and endpoint.address[0] == "127.0.0.1" and endpoint.token

    result = client("camera-frames", "--count", "5", "--check", env=endpoint.container_env())

    assert result.returncode == 0, result
    out = result.output
    assert (out["camera"], out["serial"], out["session"]) == (CAMERA.name, CAMERA.serial, "claim-view")
    assert out["frames"] == 5 and out["bytes"] == 5 * FRAME_BYTES
    assert out["counters_increasing"] and len(set(out["counters"])) == 5
    info = client("camera-info", env=endpoint.container_env())
    assert info.output["zone"] == CAMERA.zone and info.output["session"]["frames_sent"] == 5


def test_bandwidth_share_limits_frames(runner: EmulatorRunner, client: ClientRun) -> None:
    camera = runner.get_as("cam-0", CameraEmulator)
    full = camera.open_session("claim-full")
    eighth = camera.open_session("claim-eighth", bandwidth_mbps=1)
    slow_interval = camera.frame_interval("claim-eighth")
    assert slow_interval == pytest.approx(FRAME_BYTES / 125_000)  # 0.16 s: 1 Mbps of 20 kB frames
    assert camera.frame_interval("claim-full") == pytest.approx(1 / CAMERA.fps)

    limited = client("camera-frames", "--seconds", "0.6", env=eighth.container_env())
    unlimited = client("camera-frames", "--count", "8", env=full.container_env())

    assert limited.returncode == 0 and unlimited.returncode == 0, (limited, unlimited)
    # In 0.6 s of server time a 1 Mbps share carries at most 0.6 / 0.16 + 1 = 4 frames of 20 kB
    # (at the full 8 Mbps it would be 30): count and bytes bounded, frames spaced by the share.
    assert 1 <= limited.output["frames"] <= 4
    assert limited.output["bytes"] == limited.output["frames"] * FRAME_BYTES
    assert limited.output["bytes"] <= 0.6 * 125_000 + FRAME_BYTES
    if limited.output["frames"] > 1:
        assert limited.output["min_gap"] >= slow_interval * 0.999
    assert unlimited.output["min_gap"] >= (1 / CAMERA.fps) * 0.999


def test_exclusive_control_refused_for_second_session(runner: EmulatorRunner, client: ClientRun) -> None:
    camera = runner.get_as("cam-0", CameraEmulator)
    first = camera.open_session("claim-op").container_env()
    second = camera.open_session("claim-guard").container_env()

    took = client("camera-ptz", "--pan", "30", "--zoom", "2", env=first)
    refused = client("camera-ptz", "--pan", "-30", env=second)
    frames = client("camera-frames", "--count", "1", env=second)
    client("camera-release", env=first)
    after_release = client("camera-ptz", "--tilt", "10", env=second)

    assert took.returncode == 0 and took.output["pan"] == 30.0, took
    assert refused.returncode == 1 and "held exclusively by another session" in refused.output["error"]
    assert frames.returncode == 0  # viewing needs no control
    assert after_release.returncode == 0 and after_release.output["tilt"] == 10.0, after_release
    assert camera.control_holder == "claim-guard"
    with pytest.raises(SessionError, match="exclusive control is held by session 'claim-guard'"):
        camera.open_session("claim-ctl", control=True)
    camera.close_session("claim-guard")
    camera.open_session("claim-ctl", control=True)
    assert camera.control_holder == "claim-ctl"


def test_unhealthy_camera_stops_streaming_then_recovers(
    runner: EmulatorRunner, client: ClientRun, start_client: ClientStart
) -> None:
    camera = runner.get_as("cam-0", CameraEmulator)
    endpoint = camera.open_session("claim-view", bandwidth_mbps=2)
    env = endpoint.container_env()
    viewer = start_client("camera-frames", "--seconds", "60", env=env)
    session = camera.session("claim-view")
    assert camera.wait_for(lambda: session.frames_sent >= 2, timeout=15), "viewer never got frames"

    camera.set_health(Health.UNHEALTHY, "lens obstructed")
    stdout, stderr = viewer.communicate(timeout=15)
    refused = client("camera-frames", "--count", "1", env=env)
    camera.set_health(Health.HEALTHY)
    recovered = client("camera-frames", "--count", "2", "--check", env=env)

    stopped = json.loads(stdout.splitlines()[-1])
    assert viewer.returncode == 1, stderr
    assert "unhealthy (lens obstructed): streaming stopped" in stopped["error"]
    assert stopped["frames"] >= 2
    assert refused.returncode == 1 and "unhealthy" in refused.output["error"], refused
    assert recovered.returncode == 0 and recovered.output["frames"] == 2, recovered


def test_invalid_token_and_closed_session_refused(runner: EmulatorRunner, client: ClientRun) -> None:
    camera = runner.get_as("cam-0", CameraEmulator)
    endpoint = camera.open_session("claim-view")
    env = endpoint.container_env()

    forged = client("camera-frames", "--count", "1", env={**env, "DRAFARM_CAMERA_TOKEN": "0" * 32})
    camera.close_session("claim-view")
    closed = client("camera-frames", "--count", "1", env=env)

    assert forged.returncode == 1 and "token not valid" in forged.output["error"], forged
    assert closed.returncode == 1 and "token not valid" in closed.output["error"], closed
