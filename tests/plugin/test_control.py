"""The fault-control protocol is one definition: requests and answers survive the wire, bad requests are
refused with the reason, and the typed client talks to the running plugin's server."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from fakedevices.emulator.errors import RequestError
from fakedevices.plugin import control_protocol as ops
from fakedevices.plugin.control_client import ControlError, PluginControl
from fakedevices.plugin.faults import FaultState
from tests.plugin.conftest import PluginUnderTest
from tests.plugin.kit import Claim, ClaimStore, FakeKubelet, result

EVERY_REQUEST: list[ops.ControlRequest[Any]] = [
    ops.Status(),
    ops.SetHealth("gpu-0", "unhealthy", "ECC errors"),
    ops.FailPrepares(3, namespace="team-a"),
    ops.FailPrepares(permanent=True, message="firmware hang"),
    ops.DelayPrepares(2.5),
    ops.DriverBug("leak-on-unprepare", on=False),
    ops.Clear(),
    ops.Kill(),
]


def test_every_operation_has_a_request_type() -> None:
    assert sorted(ops.OPS) == sorted({r.OP for r in EVERY_REQUEST})


@pytest.mark.parametrize("request_", EVERY_REQUEST, ids=lambda r: r.OP)
def test_a_request_survives_the_wire(request_: ops.ControlRequest[Any]) -> None:
    assert ops.parse_request(request_.to_message()) == request_


def test_answers_survive_the_wire() -> None:
    status = ops.PluginStatus("n", {"gpu-0": "healthy"}, FaultState(fail_next_prepares=2), ("uid-1",), False, 7 << 20)
    assert ops.Status().answer.read(ops.Status().answer.write(status)) == status
    virtual = ops.PluginStatus("v", {"gpu-0": "unhealthy"}, virtual=True)
    assert ops.Status().answer.read(ops.Status().answer.write(virtual)) == virtual
    assert ops.Clear().answer.read(ops.Clear().answer.write(FaultState(skip_cdi_spec=True))) == FaultState(
        skip_cdi_spec=True
    )
    assert ops.SetHealth("a", "healthy").answer.read({"devices": ["a", "a-1"]}) == ["a", "a-1"]


@pytest.mark.parametrize(
    ("message", "refusal"),
    [
        ({"op": "explode"}, "unknown op 'explode'; ops: status, set-health"),
        ({}, "unknown op None"),
        ({"op": "set-health", "health": "unhealthy"}, "set-health: 'device' is required"),
        ({"op": "set-health", "device": "", "health": "unhealthy"}, "'device' is required: a non-empty string"),
        ({"op": "set-health", "device": "gpu-0", "health": "sick"}, "health 'sick' is not one of: healthy"),
        ({"op": "fail-prepares", "count": -1}, "count must be a whole number >= 0, got -1"),
        ({"op": "fail-prepares", "count": True}, "count must be a whole number"),
        ({"op": "delay-prepares", "seconds": 41}, "seconds must be a number from 0 to 40"),
        ({"op": "delay-prepares", "seconds": "2"}, "seconds must be a number"),
        ({"op": "driver-bug", "bug": "segfault"}, "bug 'segfault' is not one of: skip-cdi-spec"),
    ],
)
def test_a_bad_request_is_refused_with_the_reason(message: ops.Message, refusal: str) -> None:
    with pytest.raises(RequestError, match=refusal.replace("(", r"\(").replace(")", r"\)")):
        ops.parse_request(message)


def test_the_typed_client_drives_the_running_plugin(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore
) -> None:
    control = PluginControl.at(plugin.layout.control_socket)
    assert control.available()
    claim = claims.add(Claim("held", [result("gpu", "gpu-0")]))
    assert kubelet.prepare(claim).claims[claim.uid].error == ""
    status = control.status()
    assert status.node == "drafarm-worker-0" and not status.virtual
    assert status.prepared == (claim.uid,) and status.faults == FaultState()
    assert set(status.health.values()) == {"healthy"}
    assert status.resident_bytes is not None and status.resident_bytes > 10 << 20, status.resident_bytes
    assert "gpu-1-1g-5gb-0" in control.set_health("gpu-1", "unhealthy", "ECC")
    assert control.status().health["gpu-1-1g-5gb-0"] == "unhealthy"
    assert control.fail_prepares(2, namespace="team-a") == FaultState(fail_next_prepares=2, namespace="team-a")
    assert control.delay_prepares(0.5).prepare_delay_seconds == 0.5
    assert control.driver_bug("skip-cdi-spec").skip_cdi_spec is True
    assert control.clear() == FaultState()
    with pytest.raises(ControlError, match="no device 'gpu-77'"):
        control.set_health("gpu-77", "unhealthy")


def test_kill_answers_before_the_plugin_goes(plugin: PluginUnderTest) -> None:
    assert plugin.server is not None
    killed = threading.Event()
    plugin.server.control.on_kill = killed.set
    PluginControl.at(plugin.layout.control_socket).kill()
    assert killed.wait(5)


def test_a_missing_socket_says_what_to_run(short_tmp: Path) -> None:
    control = PluginControl.at(short_tmp / "control.sock")
    assert not control.available()
    with pytest.raises(ControlError, match="is `drafarm plugin run` running"):
        control.status()
