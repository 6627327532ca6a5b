"""The plugin's fault-control protocol: every operation's request and answer, defined once for the
server (`control_server`), the client (`control_client`) and a virtual node's control (clusters/virtual).

On the wire: one JSON object per line each way, on an owner-only unix socket. Requests, and what a
success answers besides `"ok": true`:

{"op": "status"}                                  node, virtual, health {device: healthy|unhealthy|unknown},
                                                  faults (null on a virtual node), prepared [claim UIDs]
{"op": "set-health", "device": "gpu-0", "health": "unhealthy", "reason": "ECC errors"}     devices [names]
{"op": "fail-prepares", "count": 3}               faults    (the next 3 prepares fail, then they succeed)
{"op": "fail-prepares", "permanent": true, "message": "firmware hang"}                     faults
{"op": "delay-prepares", "seconds": 2.5}          faults
{"op": "driver-bug", "bug": "skip-cdi-spec" | "leak-on-unprepare" | "stale-slice-generation", "on": true}
                                                  faults
{"op": "clear"}                                   faults
{"op": "kill"}                                    killing: true (then the plugin exits at once, like a crash)

A refusal is {"ok": false, "error": "..."}. Fields a request does not know are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any, ClassVar, Generic, TypeVar

from fakedevices.emulator.errors import RequestError
from fakedevices.plugin.faults import FaultState

Message = dict[str, Any]
R = TypeVar("R")

HEALTHS = ("healthy", "unhealthy", "unknown")
BUGS = ("skip-cdi-spec", "leak-on-unprepare", "stale-slice-generation")
DEFAULT_FAILURE = "injected prepare failure"
MAX_PREPARE_DELAY_S = 40.0
"""The kubelet gives a prepare call 45 s."""


@dataclass(frozen=True)
class PluginStatus:
    node: str
    health: dict[str, str]
    """Each device's health: one of `HEALTHS`."""
    faults: FaultState | None = None
    """The faults in force; None on a virtual node, where only device health can be set."""
    prepared: tuple[str, ...] = ()
    """UIDs of the claims prepared on the node."""
    virtual: bool = False
    resident_bytes: int | None = None
    """The plugin process's resident memory; None on a virtual node."""


@dataclass(frozen=True)
class Answer(Generic[R]):
    """How one kind of answer travels: written by the server, read by the client."""

    write: Callable[[R], Message]
    read: Callable[[Message], R]


def _status_message(status: PluginStatus) -> Message:
    faults = asdict(status.faults) if status.faults is not None else None
    return {**asdict(status), "faults": faults, "prepared": list(status.prepared)}


def _status_of(message: Message) -> PluginStatus:
    faults = message.get("faults")
    return PluginStatus(
        node=str(message["node"]),
        health={str(k): str(v) for k, v in message["health"].items()},
        faults=_fault_state(faults) if faults is not None else None,
        prepared=tuple(str(uid) for uid in message.get("prepared") or ()),
        virtual=bool(message.get("virtual", False)),
        resident_bytes=int(message["resident_bytes"]) if message.get("resident_bytes") is not None else None,
    )


def _fault_state(values: Mapping[str, Any]) -> FaultState:
    known = {f.name for f in fields(FaultState)}
    return FaultState(**{k: v for k, v in values.items() if k in known})


STATUS = Answer[PluginStatus](_status_message, _status_of)
DEVICES = Answer[list[str]](lambda devices: {"devices": list(devices)}, lambda m: [str(d) for d in m["devices"]])
FAULTS = Answer[FaultState](lambda state: {"faults": asdict(state)}, lambda m: _fault_state(m["faults"]))
KILLING = Answer[None](lambda _: {"killing": True}, lambda _: None)


@dataclass(frozen=True)
class ControlRequest(Generic[R]):
    OP: ClassVar[str]
    ANSWER: ClassVar[Answer[Any]]
    """How the answer to this request travels (its type is `R`)."""

    @property
    def answer(self) -> Answer[R]:
        return self.ANSWER

    def to_message(self) -> Message:
        return {"op": self.OP, **asdict(self)}

    def describe(self) -> str:
        """`op field=value ...`, naming only the fields that differ from their defaults."""
        changed = [f"{f.name}={getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name) != f.default]
        return " ".join([self.OP, *changed])


@dataclass(frozen=True)
class Status(ControlRequest[PluginStatus]):
    OP = "status"
    ANSWER = STATUS


@dataclass(frozen=True)
class SetHealth(ControlRequest[list[str]]):
    """Mark a device, or a card and so every device it backs, healthy, unhealthy or unknown."""

    OP = "set-health"
    ANSWER = DEVICES
    device: str
    health: str
    reason: str = ""

    def __post_init__(self) -> None:
        _require(isinstance(self.device, str) and bool(self.device), "'device' is required: a non-empty string")
        _require(self.health in HEALTHS, f"health {self.health!r} is not one of: {', '.join(HEALTHS)}")
        _require(isinstance(self.reason, str), f"reason must be a string, got {self.reason!r}")


@dataclass(frozen=True)
class FailPrepares(ControlRequest[FaultState]):
    """Fail the next `count` prepares, or every one until `clear` when `permanent`."""

    OP = "fail-prepares"
    ANSWER = FAULTS
    count: int = 1
    permanent: bool = False
    message: str = DEFAULT_FAILURE
    namespace: str = ""
    """Only claims in this namespace ("": every claim)."""

    def __post_init__(self) -> None:
        _require(_whole(self.count) and self.count >= 0, f"count must be a whole number >= 0, got {self.count!r}")
        _require(isinstance(self.permanent, bool), f"permanent must be true or false, got {self.permanent!r}")
        _require(isinstance(self.message, str), f"message must be a string, got {self.message!r}")
        _require(isinstance(self.namespace, str), f"namespace must be a string, got {self.namespace!r}")


@dataclass(frozen=True)
class DelayPrepares(ControlRequest[FaultState]):
    OP = "delay-prepares"
    ANSWER = FAULTS
    seconds: float
    namespace: str = ""

    def __post_init__(self) -> None:
        _require(
            (_whole(self.seconds) or isinstance(self.seconds, float)) and 0 <= self.seconds <= MAX_PREPARE_DELAY_S,
            f"seconds must be a number from 0 to {MAX_PREPARE_DELAY_S:g} (the kubelet waits 45 s), "
            f"got {self.seconds!r}",
        )
        _require(isinstance(self.namespace, str), f"namespace must be a string, got {self.namespace!r}")


@dataclass(frozen=True)
class DriverBug(ControlRequest[FaultState]):
    """Imitate a common driver bug (for checking that the conformance suite catches it)."""

    OP = "driver-bug"
    ANSWER = FAULTS
    bug: str
    on: bool = True

    def __post_init__(self) -> None:
        _require(self.bug in BUGS, f"bug {self.bug!r} is not one of: {', '.join(BUGS)}")
        _require(isinstance(self.on, bool), f"on must be true or false, got {self.on!r}")


@dataclass(frozen=True)
class Clear(ControlRequest[FaultState]):
    """Remove every injected fault (device health is left as it is)."""

    OP = "clear"
    ANSWER = FAULTS


@dataclass(frozen=True)
class Kill(ControlRequest[None]):
    """The plugin exits at once, like a crash."""

    OP = "kill"
    ANSWER = KILLING


REQUESTS: dict[str, type[ControlRequest[Any]]] = {
    r.OP: r for r in (Status, SetHealth, FailPrepares, DelayPrepares, DriverBug, Clear, Kill)
}
OPS = tuple(REQUESTS)


def parse_request(message: Mapping[str, Any]) -> ControlRequest[Any]:
    """The request a message carries, or `RequestError` saying what is wrong with it."""
    op = message.get("op")
    request = REQUESTS.get(op) if isinstance(op, str) else None
    if request is None:
        raise RequestError(f"unknown op {op!r}; ops: {', '.join(OPS)}")
    given = {f.name: message[f.name] for f in fields(request) if f.name in message}
    missing = [f.name for f in fields(request) if f.name not in given and _required(f.default, f.default_factory)]
    if missing:
        raise RequestError(f"{op}: {', '.join(repr(m) for m in missing)} is required")
    return request(**given)


def _required(default: object, factory: object) -> bool:
    return default is MISSING and factory is MISSING


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise RequestError(problem)
