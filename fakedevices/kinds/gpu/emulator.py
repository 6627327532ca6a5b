"""GPU emulator: identity, memory allocation within a session's share, tiny compute jobs.

Built from ``GpuEmulatorConfig`` alone (it knows nothing of the farm spec). A session is a claim's use
of the GPU, opened by the host with ``open_session(session_id, sharing=..., memory_bytes=...,
compute_units=..., partition=..., time_slice=...)`` and served on its own unix socket.

Container ops (see docs/emulator-protocol.md): ``info``, ``health``, ``ping``, ``alloc {bytes}``,
``free {handle}``, ``run {job: "sum-squares"|"matmul", n}``. Allocations belong to the connection that
made them (like a process's device memory), at most ``MAX_ALLOCATIONS_PER_CONNECTION`` of them, and are
freed when it closes; the session's share bounds the sum over all its connections, and the device's
memory bounds the sum over all sessions.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakedevices.emulator.base import reject_unknown_limits
from fakedevices.emulator.choice import parse_choice
from fakedevices.emulator.errors import EmulatorError, RequestError, SessionError
from fakedevices.emulator.listen import LOOPBACK, Listen
from fakedevices.emulator.protocol import Message, int_field, ok, shown
from fakedevices.emulator.server import Connection
from fakedevices.emulator.unixsock import SocketSession, UnixSocketEmulator
from fakedevices.kinds.emulator_config import identity_fields

MAX_SUM_SQUARES_N = 5_000_000
MAX_MATMUL_N = 96
MAX_ALLOCATIONS_PER_CONNECTION = 4096
JOBS = ("sum-squares", "matmul")
OPS = ["info", "health", "ping", "alloc", "free", "run"]


@dataclass(frozen=True)
class GpuEmulatorConfig:
    name: str
    uuid: str
    model: str
    index: int
    memory_bytes: int
    compute_units: int
    driver_version: str

    def emulator(self, state_dir: Path, listen: Listen = LOOPBACK) -> GpuEmulator:
        return GpuEmulator(self, state_dir)


class SharingMode(enum.Enum):
    EXCLUSIVE = "exclusive"
    TIME_SLICED = "time-sliced"
    PARTITION = "partition"

    @classmethod
    def parse(cls, value: SharingMode | str) -> SharingMode:
        return parse_choice(cls, value, "sharing mode", SessionError, _sharing_spelling)


def _sharing_spelling(text: str) -> str:
    return text.replace("_", "-").replace("timesliced", "time-sliced")


@dataclass(frozen=True)
class GpuSessionLimits:
    sharing: SharingMode
    memory_bytes: int
    compute_units: int
    partition: str | None = None
    time_slice: str | None = None


@dataclass
class GpuSession(SocketSession):
    used_bytes: int = 0
    jobs_run: int = 0
    next_handle: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def describe(self) -> dict[str, Any]:
        limits: GpuSessionLimits = self.limits
        out: dict[str, Any] = {
            "id": self.session_id,
            "sharing": limits.sharing.value,
            "memory_bytes": limits.memory_bytes,
            "used_bytes": self.used_bytes,
            "free_bytes": limits.memory_bytes - self.used_bytes,
            "compute_units": limits.compute_units,
            "jobs_run": self.jobs_run,
        }
        if limits.partition is not None:
            out["partition"] = limits.partition
        if limits.time_slice is not None:
            out["time_slice"] = limits.time_slice
        return out


def sum_squares(n: int) -> int:
    """Σ i² for i in 1..n, computed the slow way (the emulated kernel)."""
    total = 0
    for i in range(1, n + 1):
        total += i * i
    return total


def matmul_checksum(n: int) -> int:
    """Sum of all entries of A·B for n x n A[i][j] = (i+j) % 7, B[i][j] = (i*j) % 5 + 1."""
    a = [[(i + j) % 7 for j in range(n)] for i in range(n)]
    b = [[(i * j) % 5 + 1 for j in range(n)] for i in range(n)]
    columns = list(zip(*b, strict=True))
    return sum(sum(x * y for x, y in zip(row, col, strict=True)) for row in a for col in columns)


class GpuEmulator(UnixSocketEmulator[GpuSession]):
    kind = "gpu"
    ops = OPS

    def __init__(self, config: GpuEmulatorConfig, state_dir: Path) -> None:
        if config.memory_bytes <= 0 or config.compute_units <= 0:
            raise EmulatorError(
                f"gpu {config.name}: memory_bytes and compute_units must be positive, "
                f"got {config.memory_bytes} and {config.compute_units}"
            )
        super().__init__(config.name, state_dir)
        self.config = config
        self._run_lock = threading.Lock()

    def identity(self) -> dict[str, Any]:
        return identity_fields(self.config)

    @property
    def used_bytes(self) -> int:
        with self._lock:
            return sum(s.used_bytes for s in self._sessions.values())

    # ---- sessions --------------------------------------------------------------------------------
    def _parse_limits(self, limits: Mapping[str, Any]) -> GpuSessionLimits:
        allowed = {"sharing", "memory_bytes", "compute_units", "partition", "time_slice"}
        reject_unknown_limits(self.kind, self.name, limits, allowed)
        sharing = SharingMode.parse(limits.get("sharing", SharingMode.EXCLUSIVE))
        memory = limits.get("memory_bytes")
        memory = self.config.memory_bytes if memory is None else memory
        units = limits.get("compute_units")
        units = self.config.compute_units if units is None else units
        for key, value, most in (
            ("memory_bytes", memory, self.config.memory_bytes),
            ("compute_units", units, self.config.compute_units),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= most:
                raise SessionError(f"gpu {self.name}: {key} must be an integer in 1..{most}, got {value!r}")
        partition = limits.get("partition")
        if sharing is SharingMode.PARTITION and not partition:
            raise SessionError(f"gpu {self.name}: sharing 'partition' needs partition=<profile name> (e.g. '1g.10gb')")
        if sharing is not SharingMode.PARTITION and partition:
            raise SessionError(
                f"gpu {self.name}: partition={partition!r} given with sharing {sharing.value!r}; "
                "use sharing='partition'"
            )
        time_slice = limits.get("time_slice")
        if time_slice is not None and sharing is not SharingMode.TIME_SLICED:
            raise SessionError(f"gpu {self.name}: time_slice given with sharing {sharing.value!r}")
        if sharing is SharingMode.TIME_SLICED and time_slice is None:
            time_slice = "default"
        return GpuSessionLimits(
            sharing=sharing,
            memory_bytes=memory,
            compute_units=units,
            partition=None if partition is None else str(partition),
            time_slice=None if time_slice is None else str(time_slice),
        )

    def _create_session(self, session_id: str, limits: GpuSessionLimits) -> GpuSession:
        others = list(self._sessions.values())
        exclusive = [s for s in others if s.limits.sharing is SharingMode.EXCLUSIVE]
        if exclusive:
            raise SessionError(
                f"gpu {self.name} is held exclusively by session {exclusive[0].session_id!r}; "
                "close that session first or use a shared mode"
            )
        if limits.sharing is SharingMode.EXCLUSIVE and others:
            raise SessionError(
                f"gpu {self.name} already has {len(others)} session(s) "
                f"({', '.join(s.session_id for s in others)}); an exclusive session needs the whole GPU"
            )
        session = GpuSession(session_id=session_id, limits=limits, endpoint=self._endpoint(session_id))
        self._serve(session)
        return session

    def _connection_closed(self, conn: Connection, session: GpuSession) -> None:
        allocations: dict[str, int] = conn.context.pop("allocations", {})
        if allocations:
            with self._lock:
                session.used_bytes -= sum(allocations.values())

    # ---- container ops ---------------------------------------------------------------------------
    def session_op(self, conn: Connection, session: GpuSession, op: str, request: Message) -> Message:
        if op == "alloc":
            return self._alloc(conn, session, int_field(request, "bytes", minimum=1))
        if op == "free":
            handle = request.get("handle", "")
            return self._free(conn, session, handle if isinstance(handle, str) else shown(handle))
        return self._run(session, request)

    def _alloc(self, conn: Connection, session: GpuSession, size: int) -> Message:
        self.require_healthy("memory allocation")
        limits: GpuSessionLimits = session.limits
        if len(conn.context.get("allocations", {})) >= MAX_ALLOCATIONS_PER_CONNECTION:
            raise RequestError(
                f"alloc refused on gpu {self.name}: this connection holds {MAX_ALLOCATIONS_PER_CONNECTION} "
                "allocations, the most one connection may; free some, or allocate fewer, larger blocks"
            )
        with self._lock:
            if session.used_bytes + size > limits.memory_bytes:
                raise RequestError(
                    f"out of memory: alloc of {size} bytes refused on gpu {self.name}: "
                    f"the session's share is {limits.memory_bytes} bytes, {session.used_bytes} in use, "
                    f"{limits.memory_bytes - session.used_bytes} free; free memory or claim a larger share"
                )
            device_used = sum(s.used_bytes for s in self._sessions.values())
            if device_used + size > self.config.memory_bytes:
                raise RequestError(
                    f"out of memory: alloc of {size} bytes refused on gpu {self.name}: the device has "
                    f"{self.config.memory_bytes - device_used} bytes free across all sessions "
                    "(time-sliced sessions share one memory)"
                )
            session.used_bytes += size
            session.next_handle += 1
            handle = f"m{session.next_handle}"
            conn.context.setdefault("allocations", {})[handle] = size
            used = session.used_bytes
        return ok(handle=handle, bytes=size, used_bytes=used, free_bytes=limits.memory_bytes - used)

    def _free(self, conn: Connection, session: GpuSession, handle: str) -> Message:
        allocations: dict[str, int] = conn.context.get("allocations", {})
        size = allocations.pop(handle, None)
        if size is None:
            known = ", ".join(sorted(allocations)[:10]) or "none"
            more = f" and {len(allocations) - 10} more" if len(allocations) > 10 else ""
            raise RequestError(f"no allocation {shown(handle)} on this connection (yours: {known}{more})")
        with self._lock:
            session.used_bytes -= size
            used = session.used_bytes
        limits: GpuSessionLimits = session.limits
        return ok(handle=handle, bytes=size, used_bytes=used, free_bytes=limits.memory_bytes - used)

    def _run(self, session: GpuSession, request: Message) -> Message:
        job = request.get("job", "sum-squares")
        if job not in JOBS:
            raise RequestError(f"unknown job {shown(job)}; known jobs: {', '.join(JOBS)}")
        self.require_healthy(f"job {job!r}")
        limits: GpuSessionLimits = session.limits
        started = time.monotonic()
        if job == "sum-squares":
            n = int_field(request, "n", default=1000, minimum=1)
            if n > MAX_SUM_SQUARES_N:
                raise RequestError(f"sum-squares n must be at most {MAX_SUM_SQUARES_N}, got {n}")
        else:
            n = int_field(request, "n", default=16, minimum=1)
            if n > MAX_MATMUL_N:
                raise RequestError(f"matmul n must be at most {MAX_MATMUL_N}, got {n}")
        # Time-sliced and exclusive sessions take turns on the whole GPU; partitions run side by side.
        if limits.sharing is SharingMode.PARTITION:
            result = sum_squares(n) if job == "sum-squares" else matmul_checksum(n)
        else:
            with self._run_lock:
                result = sum_squares(n) if job == "sum-squares" else matmul_checksum(n)
        # A device that failed while the job ran must not report a result.
        self.require_healthy(f"job {job!r}")
        with self._lock:
            session.jobs_run += 1
        return ok(
            job=job,
            n=n,
            result=result,
            uuid=self.config.uuid,
            sharing=limits.sharing.value,
            partition=limits.partition,
            compute_units=limits.compute_units,
            elapsed_ms=round((time.monotonic() - started) * 1000, 3),
        )
