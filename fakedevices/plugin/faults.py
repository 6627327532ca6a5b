"""Faults a test or a user injects into a running plugin (through the control API or in-process)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from fakedevices.plugin.claims import ClaimError


@dataclass
class FaultState:
    fail_next_prepares: int = 0
    fail_all_prepares: bool = False
    prepare_delay_seconds: float = 0.0
    message: str = "injected prepare failure"
    namespace: str = ""  # when set, prepare faults hit only claims in this namespace
    skip_cdi_spec: bool = False
    leak_on_unprepare: bool = False
    stale_slice_generation: bool = False


class Faults:
    """Thread-safe fault switches; `before_prepare` applies them to one claim."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state = FaultState()

    def update(self, **changes: object) -> FaultState:
        with self._lock:
            for key, value in changes.items():
                if not hasattr(self.state, key):
                    known = ", ".join(FaultState.__dataclass_fields__)
                    raise ValueError(f"unknown fault {key!r}; known: {known}")
                setattr(self.state, key, value)
            return FaultState(**self.state.__dict__)

    def clear(self) -> None:
        with self._lock:
            self.state = FaultState()

    def snapshot(self) -> FaultState:
        with self._lock:
            return FaultState(**self.state.__dict__)

    def before_prepare(self, claim: str, namespace: str = "") -> None:
        with self._lock:
            if self.state.namespace and namespace != self.state.namespace:
                return
            delay = self.state.prepare_delay_seconds
            fail = self.state.fail_all_prepares or self.state.fail_next_prepares > 0
            if self.state.fail_next_prepares > 0:
                self.state.fail_next_prepares -= 1
            permanent = self.state.fail_all_prepares
            message = self.state.message
        if delay > 0:
            time.sleep(delay)
        if fail:
            kind = "permanent" if permanent else "transient"
            raise ClaimError(f"{claim}: {message} ({kind} fault injected with `drafarm fault`)")
