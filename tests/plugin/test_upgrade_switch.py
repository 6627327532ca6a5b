"""The switch between two instances of a node's plugin leaves no moment in which a container that starts
cannot reach its device: a prober (another process) connects to every session, whole-device and control
socket in a tight loop while a new instance starts beside the old one, both prepare claims (so each opens
the other's sessions), and the old one stops; three times over. Not one connect may find a socket
missing, be refused, or be dropped unanswered. And the kubelet's calls to the old instance while it
stops (before the kubelet saw it deregister) succeed, as do a container's requests on a connection it
opened to the old instance before the switch."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.plugin.instances import TIME_SLICED, Instance, session_sockets, works
from tests.plugin.kit import Claim, ClaimStore, ContainerView, result
from tests.plugin.socket_prober import SocketProber
from tests.polling import wait_for

GPUS = ("gpu-0", "gpu-1", "gpu-2")
COMMAND_S = 0.5
"""How long a container's command goes on talking to the old instance after the new one took its socket."""


@pytest.fixture
def prober() -> Iterator[Callable[[list[Path]], SocketProber]]:
    started: list[SocketProber] = []

    def start(paths: list[Path]) -> SocketProber:
        started.append(SocketProber(paths))
        return started[-1]

    yield start
    for one in started:
        one.kill()


def _claims(claims: ClaimStore, prefix: str, count: int) -> list[Claim]:
    return [claims.add(Claim(f"{prefix}-{i}", [result("gpu", GPUS[i % 3])], [TIME_SLICED])) for i in range(count)]


def _sessions(instance: Instance) -> set[str]:
    return {s for gpu in GPUS for s in instance.driver.runner.get(gpu).session_ids}


def _device_sockets(instance: Instance) -> list[Path]:
    return [instance.driver.runner.get(gpu).device_socket for gpu in GPUS]  # type: ignore[attr-defined]


def test_no_connect_fails_while_a_new_instance_takes_over_from_the_old_one(
    claims: ClaimStore, instances: Callable[..., Instance], prober: Callable[[list[Path]], SocketProber]
) -> None:
    old = instances()
    views: list[ContainerView] = [old.prepared(c) for c in _claims(claims, "before", 6)]
    probing = prober(
        [p for v in views for p in session_sockets(v)] + _device_sockets(old) + [old.layout.control_socket]
    )
    for new_id in ("v2", "v3", "v4"):
        new = instances(new_id)
        during = [new.prepared(c) for c in _claims(claims, f"via-{new_id}", 3)]
        during += [old.prepared(c) for c in _claims(claims, f"via-old-{new_id}", 3)]
        probing.add([p for v in during for p in session_sockets(v)])
        views += during
        wait_for(
            lambda: _sessions(old) == _sessions(new),  # noqa: B023 - waited for in this iteration
            30,
            "both instances to hold every claim's session",
            lambda: f"old {len(_sessions(old))}, new {len(_sessions(new))}",  # noqa: B023
        )
        old.stop()
        old = new
    seen = probing.finish()

    assert seen["failures"] == {}, f"connects failed during the switch: {seen}"
    assert seen["attempts"] > 1000, f"the prober hardly ran: {seen}"
    assert all(works(v) for v in views), "a container lost its device"


def test_prepares_sent_to_the_old_instance_while_it_stops_succeed(
    claims: ClaimStore, instances: Callable[..., Instance]
) -> None:
    """The kubelet notices a deregistration on its next round: calls it sends the old instance until then
    must not fail (and wait out the kubelet's backoff)."""
    old = instances()
    new = instances("v2")
    old.stopped = True  # stopped here, its kubelet client kept for the calls during the stop
    stopping = threading.Thread(target=old.server.stop, name="old-instance-stop")
    stopping.start()
    try:
        wait_for(
            lambda: not old.layout.registration_socket.exists(),
            30,
            "the old instance to deregister",
            lambda: str(sorted(p.name for p in old.layout.registration_socket.parent.iterdir())),
            interval=0.01,
        )
        claim = claims.add(Claim("during-the-stop", [result("gpu", "gpu-0")]))
        view = old.prepared(claim)
    finally:
        stopping.join(60)
        old.kubelet.close()
    assert not stopping.is_alive() and not old.layout.service_socket.exists()
    assert works(view), "the claim prepared during the stop has no device"
    assert set(session_sockets(view)) <= set(new.driver.sockets_held())


def test_a_connection_open_to_the_old_instance_is_answered_until_its_container_closes_it(
    claims: ClaimStore, instances: Callable[..., Instance]
) -> None:
    """Once the other instance took the sockets, containers connect there; a command already talking to
    the old instance gets its answers (for at most `CONNECTIONS_S`)."""
    old = instances()
    new = instances("v2")
    claim = claims.add(Claim("kept-open", [result("gpu", "gpu-1")]))
    view = old.prepared(claim)
    (path,) = session_sockets(view)
    assert path in old.driver.sockets_held(), "no one served the new claim's socket: the old instance binds it"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        conn.connect(str(path))
        answers = conn.makefile("rb")
        old.stopped = True
        stopping = threading.Thread(target=old.server.stop, name="old-instance-stop")
        stopping.start()
        try:
            wait_for(
                lambda: path in new.driver.sockets_held(),
                30,
                "the new instance to take the session's socket",
                lambda: str(new.driver.sockets_held()),
                interval=0.01,
            )
            until = time.monotonic() + COMMAND_S
            while time.monotonic() < until:  # a command at work on the connection it had opened
                conn.sendall(b'{"op": "info"}\n')
                assert json.loads(answers.readline() or "{}").get("ok"), "the old instance closed the connection"
        finally:
            answers.close()
            conn.close()
            stopping.join(60)
            old.kubelet.close()
    assert not stopping.is_alive()
    assert works(view)
