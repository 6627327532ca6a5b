"""FPGA emulator: reconfigurable regions programmed with a bitstream per session.

Built from ``FpgaEmulatorConfig`` alone. The host opens a session (one region each, at most
``regions`` at a time) and programs it with ``program(session_id, Bitstream(...))``, which takes
``program_seconds`` and refuses a bitstream built for another family. The bitstream stays loaded until
the session closes. Its name picks the function it implements: the name is one of ``FUNCTIONS`` or
starts with one followed by ``-``, ``_``, ``.``, ``@`` or ``:`` (``crc32-v2`` implements ``crc32``).

Container ops: ``info`` (identity, region, bitstream, state), ``health``, ``ping``, ``run {input}``.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakedevices.emulator.base import reject_unknown_limits
from fakedevices.emulator.errors import EmulatorError, RequestError, SessionError
from fakedevices.emulator.listen import LOOPBACK, Listen
from fakedevices.emulator.protocol import Message
from fakedevices.emulator.server import Connection
from fakedevices.emulator.unixsock import SocketSession, UnixSocketEmulator
from fakedevices.kinds.emulator_config import identity_fields

OPS = ["info", "health", "ping", "run"]
MAX_INPUT_ITEMS = 100_000


@dataclass(frozen=True)
class FpgaEmulatorConfig:
    name: str
    serial: str
    family: str
    part_number: str
    shell_version: str
    regions: int
    program_seconds: float

    def emulator(self, state_dir: Path, listen: Listen = LOOPBACK) -> FpgaEmulator:
        return FpgaEmulator(self, state_dir)


@dataclass(frozen=True)
class Bitstream:
    name: str
    family: str
    sha256: str


class BitstreamError(EmulatorError):
    """A bitstream cannot be programmed on this device."""


def _vector_add(value: Any) -> list[int]:
    if isinstance(value, dict):
        a, b = value.get("a"), value.get("b")
    elif isinstance(value, list) and len(value) == 2:
        a, b = value
    else:
        raise RequestError('vector-add input must be {"a": [ints], "b": [ints]} or [[ints], [ints]]')
    if not isinstance(a, list) or not isinstance(b, list) or len(a) != len(b):
        raise RequestError("vector-add needs two lists of integers of the same length")
    if len(a) > MAX_INPUT_ITEMS:
        raise RequestError(f"vector-add takes at most {MAX_INPUT_ITEMS} items")
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in [*a, *b]):
        raise RequestError("vector-add needs integers only")
    return [x + y for x, y in zip(a, b, strict=True)]


def _text(value: Any, function: str) -> str:
    if not isinstance(value, str):
        raise RequestError(f"{function} input must be a string, got {type(value).__name__}")
    return value


FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "vector-add": _vector_add,
    "crc32": lambda v: zlib.crc32(_text(v, "crc32").encode()),
    "reverse": lambda v: _text(v, "reverse")[::-1],
    "sha256": lambda v: hashlib.sha256(_text(v, "sha256").encode()).hexdigest(),
}

_HEX64 = re.compile(r"[0-9a-f]{64}")


def function_of(bitstream_name: str) -> str:
    """The function a bitstream implements, from its name; ``BitstreamError`` if none."""
    name = bitstream_name.strip().lower()
    for function in sorted(FUNCTIONS, key=len, reverse=True):
        if name == function or (name.startswith(function) and name[len(function)] in "-_.@:"):
            return function
    raise BitstreamError(
        f"bitstream {bitstream_name!r} implements no known function; its name must be one of "
        f"{', '.join(sorted(FUNCTIONS))}, optionally followed by -<version>"
    )


@dataclass
class FpgaSession(SocketSession):
    region: int = 0
    bitstream: Bitstream | None = None
    function: str | None = None
    state: str = "empty"  # empty | programming | loaded
    programming_started: float | None = None
    programmed_seconds: float | None = None
    runs: int = 0

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.session_id,
            "region": self.region,
            "state": self.state,
            "runs": self.runs,
        }
        if self.bitstream is not None:
            out["bitstream"] = {
                "name": self.bitstream.name,
                "family": self.bitstream.family,
                "sha256": self.bitstream.sha256,
                "function": self.function,
            }
        if self.programmed_seconds is not None:
            out["programmed_seconds"] = round(self.programmed_seconds, 4)
        return out


@dataclass(frozen=True)
class FpgaSessionLimits:
    region: int | None = None


@dataclass(frozen=True)
class ProgramResult:
    session_id: str
    region: int
    bitstream: Bitstream
    function: str
    seconds: float


class ProgrammingJob:
    """A programming run in progress; ``wait()`` returns its result or raises its error."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._result: ProgramResult | None = None
        self._error: EmulatorError | None = None

    def _finish(self, result: ProgramResult | None, error: EmulatorError | None) -> None:
        self._result, self._error = result, error
        self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> ProgramResult:
        if not self._done.wait(timeout):
            raise EmulatorError(f"programming did not finish within {timeout} s")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


class FpgaEmulator(UnixSocketEmulator[FpgaSession]):
    kind = "fpga"
    ops = OPS

    def __init__(self, config: FpgaEmulatorConfig, state_dir: Path) -> None:
        if config.regions < 1 or config.program_seconds < 0:
            raise EmulatorError(
                f"fpga {config.name}: regions must be >= 1 and program_seconds >= 0, "
                f"got {config.regions} and {config.program_seconds}"
            )
        super().__init__(config.name, state_dir)
        self.config = config

    def identity(self) -> dict[str, Any]:
        return identity_fields(self.config, without={"program_seconds"})

    # ---- sessions --------------------------------------------------------------------------------
    def _parse_limits(self, limits: Mapping[str, Any]) -> FpgaSessionLimits:
        reject_unknown_limits(self.kind, self.name, limits, {"region"})
        region = limits.get("region")
        if region is not None and (
            isinstance(region, bool) or not isinstance(region, int) or not 0 <= region < self.config.regions
        ):
            raise SessionError(f"fpga {self.name}: region must be in 0..{self.config.regions - 1}, got {region!r}")
        return FpgaSessionLimits(region=region)

    def _create_session(self, session_id: str, limits: FpgaSessionLimits) -> FpgaSession:
        taken = {s.region for s in self._sessions.values()}
        if limits.region is not None:
            if limits.region in taken:
                raise SessionError(f"fpga {self.name}: region {limits.region} is in use by another session")
            region = limits.region
        else:
            free = [r for r in range(self.config.regions) if r not in taken]
            if not free:
                raise SessionError(
                    f"fpga {self.name}: all {self.config.regions} reconfigurable regions are in use; "
                    "close a session first"
                )
            region = free[0]
        session = FpgaSession(session_id=session_id, limits=limits, endpoint=self._endpoint(session_id), region=region)
        self._serve(session)
        return session

    # ---- programming -----------------------------------------------------------------------------
    def check_bitstream(self, bitstream: Bitstream) -> str:
        """Validate a bitstream for this device; the function it implements, or ``BitstreamError``."""
        if bitstream.family.strip().lower() != self.config.family.strip().lower():
            raise BitstreamError(
                f"bitstream {bitstream.name!r} targets family {bitstream.family!r} but fpga {self.name} is "
                f"family {self.config.family!r} (part {self.config.part_number}); build the bitstream for "
                f"{self.config.family!r} or request a {bitstream.family!r} device"
            )
        if not _HEX64.fullmatch(bitstream.sha256.lower()):
            raise BitstreamError(
                f"bitstream {bitstream.name!r}: sha256 must be 64 hex digits, got {bitstream.sha256!r}"
            )
        return function_of(bitstream.name)

    def start_program(self, session_id: str, bitstream: Bitstream) -> ProgrammingJob:
        """Begin programming the session's region; the returned job finishes after ``program_seconds``.

        Programming the bitstream that is already loaded (or loading) is idempotent.
        """
        function = self.check_bitstream(bitstream)
        job = ProgrammingJob()
        with self._lock:
            session = self.session(session_id)
            if session.bitstream is not None:
                if session.bitstream != bitstream:
                    raise BitstreamError(
                        f"fpga {self.name} session {session_id!r} already has bitstream "
                        f"{session.bitstream.name!r}; it stays until the session closes"
                    )
                if session.state == "loaded":
                    assert session.programmed_seconds is not None
                    job._finish(self._result(session), None)
                    return job
            else:
                session.bitstream = bitstream
                session.function = function
                session.state = "programming"
                session.programming_started = time.monotonic()
        threading.Thread(target=self._program, args=(session, job), name=f"{self.name}-program", daemon=True).start()
        return job

    def program(self, session_id: str, bitstream: Bitstream, timeout: float | None = None) -> ProgramResult:
        """Program and wait until loaded (takes ``program_seconds``)."""
        return self.start_program(session_id, bitstream).wait(timeout)

    def _result(self, session: FpgaSession) -> ProgramResult:
        assert session.bitstream is not None and session.function is not None
        return ProgramResult(
            session_id=session.session_id,
            region=session.region,
            bitstream=session.bitstream,
            function=session.function,
            seconds=session.programmed_seconds or 0.0,
        )

    def _program(self, session: FpgaSession, job: ProgrammingJob) -> None:
        assert session.programming_started is not None
        deadline = session.programming_started + self.config.program_seconds

        def gone() -> bool:
            return not self._running or self._sessions.get(session.session_id) is not session

        with self._changed:
            while session.state == "programming" and not gone():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    session.state = "loaded"
                    session.programmed_seconds = time.monotonic() - session.programming_started
                    self._changed.notify_all()
                    break
                self._changed.wait(remaining)
            if session.state == "loaded" and not gone():
                job._finish(self._result(session), None)
            else:
                job._finish(
                    None,
                    SessionError(f"fpga {self.name}: session {session.session_id!r} closed while programming"),
                )

    def wait_loaded(self, session_id: str, timeout: float) -> bool:
        """Wait until the session's bitstream is loaded; ``False`` on timeout."""
        session = self.session(session_id)
        with self._changed:
            return self._changed.wait_for(lambda: session.state == "loaded", timeout)

    # ---- container ops ---------------------------------------------------------------------------
    def session_op(self, conn: Connection, session: FpgaSession, op: str, request: Message) -> Message:
        return self._run(session, request)

    def _run(self, session: FpgaSession, request: Message) -> Message:
        with self._lock:
            state, function, bitstream = session.state, session.function, session.bitstream
        if state != "loaded" or function is None or bitstream is None:
            hint = "programming is still in progress" if state == "programming" else "no bitstream is loaded"
            raise RequestError(f"fpga {self.name} region {session.region}: {hint}; run refused")
        self.require_healthy(f"run of {function!r}")
        if "input" not in request:
            raise RequestError('run needs "input" (a string, or {"a": [...], "b": [...]} for vector-add)')
        output = FUNCTIONS[function](request["input"])
        with self._lock:
            session.runs += 1
        return {
            "ok": True,
            "function": function,
            "bitstream": bitstream.name,
            "region": session.region,
            "output": output,
        }
