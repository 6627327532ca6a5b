"""`plugin run --network-devices remote`: a pool's cameras served by a device host, a real subprocess on
loopback addresses (`python -m fakedevices.remote`), and real node drivers that publish and prepare them
but open and close sessions and read and set health over host control."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from fakedevices.client.transport import Connection
from fakedevices.emulator.health import Health
from fakedevices.plugin.api import ClaimRef, PrepareOutcome
from fakedevices.plugin.driver import NodeDriver
from fakedevices.remote import auth
from fakedevices.remote.client import HostRefused
from tests.plugin.device_host import CAMERA, KEY, POOL, DeviceHost, remote_driver, write_farm
from tests.plugin.kit import NODE, Claim, ClaimStore, ContainerView, apply_cdi, result
from tests.polling import wait_for


class Farmyard:
    """One test's device host and drivers, stopped at its end."""

    def __init__(self, root: Path, first_address: str, nodes: int = 1) -> None:
        self.root = root
        farm_file, self.farm = write_farm(root, first_address, nodes)
        self.host = DeviceHost(root, farm_file, first_address)
        self.drivers: list[NodeDriver] = []

    def driver(
        self, name: str = "d0", node: str = NODE, claims: ClaimStore | None = None, key: bytes = KEY
    ) -> NodeDriver:
        driver = remote_driver(self.root / name, self.farm, node, claims or ClaimStore(), key)
        self.drivers.append(driver)
        return driver

    def close(self) -> None:
        for driver in self.drivers:
            driver.stop()
        self.host.stop()


@pytest.fixture
def farmyard(short_tmp: Path) -> Iterator[Callable[..., Farmyard]]:
    """`farmyard(first_address)`: a yard whose device host is up; each is closed at the test's end."""
    made: list[Farmyard] = []

    def make(first_address: str, nodes: int = 1) -> Farmyard:
        made.append(Farmyard(short_tmp, first_address, nodes))
        made[-1].host.start()
        return made[-1]

    yield make
    for yard in made:
        yard.close()


def _camera_claim(claims: ClaimStore, name: str) -> Claim:
    return claims.add(Claim(name, [result("cam", CAMERA, pool=POOL)]))


def _prepare(driver: NodeDriver, claim: Claim) -> PrepareOutcome:
    return driver.prepare([ClaimRef(claim.namespace, claim.uid, claim.name)])[claim.uid]


def _container(driver: NodeDriver, outcome: PrepareOutcome) -> ContainerView:
    assert outcome.error == "", outcome.error
    return apply_cdi(driver.layout.cdi_dir, [device.cdi_id for device in outcome.devices])


def _addr_and_token(view: ContainerView) -> tuple[str, str]:
    [addr] = [v for k, v in view.env.items() if k.startswith("DRAFARM_CAMERA_") and k.endswith("_ADDR")]
    [token] = [v for k, v in view.env.items() if k.startswith("DRAFARM_CAMERA_") and k.endswith("_TOKEN")]
    return addr, token


def _frames(view: ContainerView, count: int = 3) -> dict[str, object]:
    done = view.client("camera-frames", "--count", str(count), "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    summary: dict[str, object] = json.loads(done.stdout)
    return summary


def _host_sessions(host: DeviceHost, device: str = CAMERA) -> list[str]:
    sessions: list[str] = host.control().call("sessions", device=device)["sessions"]
    return sessions


def test_a_prepared_camera_streams_from_the_device_host_and_unprepare_closes_its_session(
    farmyard: Callable[..., Farmyard], claims: ClaimStore
) -> None:
    yard = farmyard("127.0.7.10")
    driver = yard.driver(claims=claims)
    claim = _camera_claim(claims, "viewer")
    view = _container(driver, _prepare(driver, claim))
    addr, token = _addr_and_token(view)
    assert addr == "127.0.7.10:8554"
    assert _frames(view)["frames"] == 3
    assert _host_sessions(yard.host) == [f"{claim.uid}-{CAMERA}"]

    with Connection.tcp(addr, timeout=10) as viewer:
        viewer.send({"op": "stream", "token": token, "frames": 0})
        first = viewer.receive()
        assert first is not None and "frame" in first, first
        assert driver.unprepare([ClaimRef(claim.namespace, claim.uid, claim.name)]) == {claim.uid: ""}
        last = first
        while last is not None and last.get("ok") and "frame" in last:
            last = viewer.receive()  # the host closed the session: its viewer's stream ends
    assert last is None or last.get("ok") is False, last
    assert _host_sessions(yard.host) == []
    assert view.client("camera-info").returncode != 0  # the token is no longer good


def _signed_status(device: str) -> bytes:
    return json.dumps(auth.sign({"op": "status", "device": device}, KEY, time.time())).encode() + b"\n"


def _exchange(wire: BinaryIO, line: bytes) -> dict[str, Any]:
    wire.write(line)
    wire.flush()
    answer: dict[str, Any] = json.loads(wire.readline())
    return answer


def test_host_control_refuses_a_wrong_key_and_bad_requests_and_keeps_serving(
    farmyard: Callable[..., Farmyard], claims: ClaimStore
) -> None:
    yard = farmyard("127.0.7.20")
    wrong = yard.driver(claims=claims, key=b"not the pool key, but long enough")
    claim = _camera_claim(claims, "viewer")
    outcome = _prepare(wrong, claim)
    assert "bad signature" in outcome.error and "127.0.7.20:8555" in outcome.error, outcome.error
    with pytest.raises(HostRefused, match="bad signature"):
        yard.host.control(b"not the pool key, but long enough").call("status", device=CAMERA)
    assert _host_sessions(yard.host) == []

    with socket.create_connection(("127.0.7.20", 8555), timeout=5) as sock, sock.makefile("rwb") as wire:
        for line in (b"not json\n", b'{"op": "status", "device": "lobby-cam-0"}\n'):
            answer = _exchange(wire, line)
            assert answer["ok"] is False and answer["error"], answer
        answer = _exchange(wire, _signed_status("nope"))
        assert answer["ok"] is False and "no device 'nope'" in answer["error"], answer
        answer = _exchange(wire, _signed_status(CAMERA))
        assert answer["ok"] is True and answer["health"] == "healthy", answer


def test_a_host_down_fails_prepares_per_claim_until_it_is_back_and_reopens_its_sessions(
    farmyard: Callable[..., Farmyard], claims: ClaimStore
) -> None:
    yard = farmyard("127.0.7.30")
    driver = yard.driver(claims=claims)
    before = _camera_claim(claims, "before")
    view = _container(driver, _prepare(driver, before))
    _frames(view)

    yard.host.kill()
    during = claims.add(Claim("during", [result("cam", "lobby-cam-1", pool=POOL)]))
    gpu = claims.add(Claim("gpu", [result("gpu", "gpu-0")]))
    refs = [ClaimRef(c.namespace, c.uid, c.name) for c in (during, gpu)]
    outcomes = driver.prepare(refs)
    assert "127.0.7.31:8555" in outcomes[during.uid].error, outcomes[during.uid].error
    assert outcomes[gpu.uid].error == ""
    camera = driver.runner.get(CAMERA)
    wait_for(lambda: camera.health is Health.UNKNOWN, 10, "the unreachable camera to be unknown", lambda: camera.health)
    assert "127.0.7.30:8555" in camera.health_reason

    yard.host.start()  # a new process: every session is gone, the session keys are in its state dir
    wait_for(lambda: _host_sessions(yard.host), 10, "the plugin to re-open its session", lambda: "no session")
    assert _host_sessions(yard.host) == [f"{before.uid}-{CAMERA}"]
    _frames(view)  # the token the container holds works again
    assert _prepare(driver, during).error == ""
    wait_for(lambda: camera.health is Health.HEALTHY, 10, "the camera to be healthy again", lambda: camera.health)


def test_a_restarted_plugin_restores_its_sessions_and_the_container_keeps_its_token(
    farmyard: Callable[..., Farmyard], claims: ClaimStore
) -> None:
    yard = farmyard("127.0.7.40")
    first = yard.driver(claims=claims)
    claim = _camera_claim(claims, "viewer")
    outcome = _prepare(first, claim)
    view = _container(first, outcome)
    spec = first.layout.cdi_spec(claim.uid).read_bytes()
    first.stop()
    _frames(view)  # the plugin is down, the camera is not

    yard.host.kill()
    yard.host.start()  # and the host lost the session while the plugin was down
    second = yard.driver(claims=claims)  # same state dir: the restore opens the checkpointed session
    assert _host_sessions(yard.host) == [f"{claim.uid}-{CAMERA}"]
    assert first.layout.cdi_spec(claim.uid).read_bytes() == spec
    assert _prepare(second, claim).devices == outcome.devices
    _frames(view)


def test_health_set_through_one_node_is_seen_by_the_other_node_serving_the_pool(
    farmyard: Callable[..., Farmyard],
) -> None:
    yard = farmyard("127.0.7.50", nodes=2)
    one = yard.driver("d0", "drafarm-worker-0")
    other = yard.driver("d1", "drafarm-worker-1")
    generation, _ = other.health_snapshot()

    assert one.set_health(CAMERA, "unhealthy", "lens cap on") == [CAMERA]
    other.wait_health_change(generation, 10)

    def reported() -> int | None:
        _, reports = other.health_snapshot()
        return next(r.health for r in reports if r.device == CAMERA)

    wait_for(lambda: reported() == Health.UNHEALTHY.dra_value, 10, "the other node to see it", reported)
    assert other.runner.get(CAMERA).health_reason == "lens cap on"
    assert yard.host.control().call("status", device=CAMERA)["health"] == "unhealthy"

    other.set_health(CAMERA, "healthy")
    wait_for(lambda: one.runner.get(CAMERA).health is Health.HEALTHY, 10, "the first node to see it", lambda: "")


def test_a_plugin_restarted_while_the_host_is_down_opens_its_sessions_once_the_host_is_back(
    farmyard: Callable[..., Farmyard], claims: ClaimStore
) -> None:
    yard = farmyard("127.0.7.60")
    first = yard.driver(claims=claims)
    claim = claims.add(Claim("viewer", [result("cam", CAMERA, pool=POOL), result("gpu", "gpu-0")]))
    outcome = _prepare(first, claim)
    view = _container(first, outcome)
    spec = first.layout.cdi_spec(claim.uid).read_bytes()
    first.stop()
    yard.host.kill()

    second = yard.driver(claims=claims)  # the restore cannot open the camera's session
    assert first.layout.cdi_spec(claim.uid).read_bytes() == spec  # not rewritten without the camera
    assert second.sessions.incomplete() == {claim.uid}
    yard.host.start()
    wait_for(lambda: _host_sessions(yard.host), 15, "the plugin to open the session again", lambda: "no session")
    wait_for(lambda: not second.sessions.incomplete(), 5, "the claim to be complete", second.sessions.incomplete)
    assert first.layout.cdi_spec(claim.uid).read_bytes() == spec
    _frames(view)
