"""Malformed and mutated request lines on the emulators' real sockets: one reply each, the connection
and the emulator keep serving, nothing is logged as a failure."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakedevices.emulator.protocol import MAX_LINE_BYTES
from fakedevices.kinds.camera.emulator import OPS as CAMERA_OPS
from fakedevices.kinds.fpga.emulator import OPS as FPGA_OPS
from fakedevices.kinds.gpu.emulator import OPS as GPU_OPS
from tests.fuzz.budget import CAMERA_LINES, EMULATOR_LINES, budget
from tests.fuzz.conftest import Devices
from tests.fuzz.values import JSON_LIKE
from tests.fuzz.wire import RawPeer

MAX_ERROR_CHARS = 1000
FIELDS = ["bytes", "handle", "job", "n", "input", "token", "frames", "seconds", "pan", "tilt", "zoom"]


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def failures() -> Iterator[Failures]:
    handler = Failures()
    logging.getLogger("fakedevices").addHandler(handler)
    yield handler
    logging.getLogger("fakedevices").removeHandler(handler)


def requests(ops: list[str], extra: dict[str, Any] | None = None) -> st.SearchStrategy[bytes]:
    @st.composite
    def request(draw: st.DrawFn) -> bytes:
        message: dict[str, Any] = {"op": draw(st.sampled_from(ops) | JSON_LIKE)}
        for _ in range(draw(st.integers(0, 3))):
            message[draw(st.sampled_from(FIELDS) | st.text(max_size=5))] = draw(JSON_LIKE)
        if extra and draw(st.booleans()):
            message.update(extra)
        return json.dumps(message).encode()

    garbage = st.binary(max_size=300).map(lambda b: b.replace(b"\n", b""))
    values = JSON_LIKE.map(lambda v: json.dumps(v).encode())
    token = f'"token":"{extra["token"]}",' if extra else ""
    return request() | garbage | values | hostile(ops, token)


def hostile(ops: list[str], token: str = "") -> st.SearchStrategy[bytes]:
    """What a careless or hostile peer sends: deep nesting, huge numbers, long names, non-finite numbers."""
    field = st.sampled_from(FIELDS)
    op = st.sampled_from(ops)
    deep = st.integers(1, 20_000).map(lambda n: b"[" * n + b"]" * n)
    deep_field = st.tuples(op, field, st.integers(30, 5000)).map(
        lambda t: f'{{{token}"op":"{t[0]}","{t[1]}":{"[" * t[2]}{"]" * t[2]}}}'.encode()
    )
    digits = st.tuples(op, field, st.sampled_from([330, 400, 4000, 5000, 6000])).map(
        lambda t: f'{{{token}"op":"{t[0]}","{t[1]}":{"9" * t[2]}}}'.encode()
    )
    long_op = st.integers(100, 300_000).map(lambda n: b'{"op":"' + b"x" * n + b'"}')
    non_finite = st.tuples(op, field, st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])).map(
        lambda t: f'{{{token}"op":"{t[0]}","{t[1]}":{t[2]}}}'.encode()
    )
    return deep | deep_field | digits | long_op | non_finite


def _one_reply_then_alive(where: Path | tuple[str, int], line: bytes, failures: Failures) -> None:
    with RawPeer(where) as peer:
        peer.send(line + b"\n")
        raw = peer.line()
        assert raw.endswith(b"\n") and len(raw) <= MAX_LINE_BYTES, raw[:200]
        reply = json.loads(raw)
        assert isinstance(reply, dict) and isinstance(reply.get("ok"), bool), reply
        if not reply["ok"]:
            assert isinstance(reply["error"], str) and len(reply["error"]) <= MAX_ERROR_CHARS, reply
        while reply.get("frame") is not None:  # a stream request that was accepted: read it to its end
            reply = peer.reply()
        assert peer.ask({"op": "ping"}) == {"ok": True, "pong": True}
    assert not failures.records, failures.records[0].getMessage()


@budget(EMULATOR_LINES)
@given(st.sampled_from(["gpu", "fpga"]), st.data())
def test_unix_socket_lines(devices: Devices, failures: Failures, kind: str, data: st.DataObject) -> None:
    endpoint = devices.gpu if kind == "gpu" else devices.fpga
    line = data.draw(requests(GPU_OPS if kind == "gpu" else FPGA_OPS))
    assert endpoint.socket_path is not None
    _one_reply_then_alive(endpoint.socket_path, line, failures)


@budget(CAMERA_LINES)
@given(st.data())
def test_camera_lines(devices: Devices, failures: Failures, data: st.DataObject) -> None:
    assert devices.camera.address is not None and devices.camera.token is not None
    # An unbounded stream is a valid request that never ends: every stream the fuzzer sends is bounded.
    bounded = {"token": devices.camera.token, "frames": 2, "seconds": 1}
    line = data.draw(requests(CAMERA_OPS, bounded))
    if b'"stream"' in line and b'"frames": 2' not in line:
        line = line.replace(b'"stream"', b'"streem"')
    _one_reply_then_alive(devices.camera.address, line, failures)
