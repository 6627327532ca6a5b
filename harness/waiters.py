"""Waiting on cluster conditions with deadlines; a timeout says what was last seen.

On timeout a `WaitTimeout` carries the claim's status, the pod's phase, conditions and events, and the
plugin's recent log lines, so a failing test explains itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from clusters.polling import poll
from harness.kube import Kube

T = TypeVar("T")
POLL_SECONDS = 0.25
HOPELESS_CHECK_SECONDS = 2.0
HOPELESS = ("CEL runtime error",)
"""Event messages that say a claim can never be allocated as it stands (the allocator stops at the first
device a selector cannot be evaluated on), so waiting longer is pointless."""


class WaitTimeout(AssertionError):
    def __init__(self, what: str, timeout: float, diagnostics: str) -> None:
        self.diagnostics = diagnostics
        super().__init__(f"timed out after {timeout:.0f}s waiting for {what}\n{diagnostics}")


class CannotSucceed(AssertionError):
    def __init__(self, what: str, event: str, diagnostics: str) -> None:
        self.diagnostics = diagnostics
        super().__init__(f"gave up waiting for {what}: it can never happen, the cluster says: {event}\n{diagnostics}")


@dataclass
class Waiter:
    kube: Kube
    namespace: str
    plugin_log: Callable[[], str] = lambda: ""
    default_timeout: float = 90.0
    extra: list[Callable[[], str]] = field(default_factory=list)

    def until(
        self,
        what: str,
        probe: Callable[[], T | None],
        timeout: float | None = None,
        *,
        pod: str | None = None,
        claim: str | None = None,
    ) -> T:
        limit = self.default_timeout if timeout is None else timeout
        next_check = time.monotonic() + HOPELESS_CHECK_SECONDS

        def attempt() -> T | None:
            nonlocal next_check
            value = probe()
            if not value and (pod or claim) and time.monotonic() >= next_check:
                next_check = time.monotonic() + HOPELESS_CHECK_SECONDS
                hopeless = self.hopeless(pod, claim)
                if hopeless:
                    raise CannotSucceed(what, hopeless, self.diagnose(pod=pod, claim=claim))
            return value

        found = poll(attempt, limit, POLL_SECONDS)
        if not found:
            raise WaitTimeout(what, limit, self.diagnose(pod=pod, claim=claim))
        return found

    def hopeless(self, *involved: str | None) -> str:
        """The first event about `involved` objects whose message says the wait can never end well."""
        for name in filter(None, involved):
            for event in self.kube.events(self.namespace, name):
                message = str(event.get("message", ""))
                if any(marker in message for marker in HOPELESS):
                    return f"{event.get('reason')} {name}: {message}"
        return ""

    # ---- common conditions -----------------------------------------------------------------------
    def pod_phase(self, name: str, *phases: str, timeout: float | None = None) -> str:
        def probe() -> str | None:
            obj = self.kube.get("Pod", name, self.namespace)
            phase = ((obj or {}).get("status") or {}).get("phase")
            return phase if phase in phases else None

        return self.until(f"pod {self.namespace}/{name} to be {' or '.join(phases)}", probe, timeout, pod=name)

    def pod_running(self, name: str, timeout: float | None = None) -> None:
        self.pod_phase(name, "Running", timeout=timeout)

    def pod_succeeded(self, name: str, timeout: float | None = None) -> str:
        phase = self.pod_phase(name, "Succeeded", "Failed", timeout=timeout)
        logs = self.kube.logs(name, self.namespace)
        if phase != "Succeeded":
            raise AssertionError(f"pod {name} ended {phase}; logs:\n{logs}\n{self.diagnose(pod=name)}")
        return logs

    def claim_allocated(self, name: str, timeout: float | None = None) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            obj = self.kube.get("ResourceClaim", name, self.namespace)
            return obj if obj and (obj.get("status") or {}).get("allocation") else None

        return self.until(f"claim {self.namespace}/{name} to be allocated", probe, timeout, claim=name)

    def event(self, involved: str, reason: str, contains: str = "", timeout: float | None = None) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            for event in self.kube.events(self.namespace, involved):
                if event.get("reason") == reason and contains in str(event.get("message", "")):
                    return event
            return None

        return self.until(f"event {reason} on {involved} mentioning {contains!r}", probe, timeout, pod=involved)

    def gone(self, kind: str, name: str, timeout: float | None = None) -> None:
        self.until(f"{kind} {name} to be deleted", lambda: self.kube.get(kind, name, self.namespace) is None, timeout)

    # ---- diagnostics -----------------------------------------------------------------------------
    def diagnose(self, *, pod: str | None = None, claim: str | None = None) -> str:
        parts: list[str] = []
        if pod:
            obj = self.kube.get("Pod", pod, self.namespace)
            status = (obj or {}).get("status") or {}
            parts.append(f"pod {pod}: phase={status.get('phase')} conditions={_short(status.get('conditions'))}")
            for cs in status.get("containerStatuses") or []:
                parts.append(f"  container {cs.get('name')}: {_short(cs.get('state'))}")
            claims_of_pod = [c.get("resourceClaimName") for c in status.get("resourceClaimStatuses") or []]
            claims_of_pod += [
                c.get("resourceClaimName") for c in ((obj or {}).get("spec") or {}).get("resourceClaims") or []
            ]
            for name in filter(None, claims_of_pod):
                parts.append(self._claim_line(str(name)))
        if claim:
            parts.append(self._claim_line(claim))
        events = self.kube.events(self.namespace)
        if events:
            parts.append("events:")
            for e in events[-15:]:
                involved = (e.get("involvedObject") or {}).get("name")
                parts.append(f"  {e.get('type')} {e.get('reason')} {involved}: {e.get('message')}")
        tail = self.plugin_log()
        if tail:
            parts.append("plugin log (tail):")
            parts.extend(f"  {line}" for line in tail.splitlines()[-20:])
        for source in self.extra:
            parts.append(source())
        return "\n".join(parts)

    def _claim_line(self, name: str) -> str:
        obj = self.kube.get("ResourceClaim", name, self.namespace)
        if obj is None:
            return f"claim {name}: not found"
        return f"claim {name}: status={_short(obj.get('status'))}"


def _short(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
