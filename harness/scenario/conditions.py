"""Reading one `Check` off the cluster now: does it hold, and what was seen (for the report)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from clusters.provider import ClusterProvider
from harness.kube import Kube
from harness.scenario.logs import ComponentLogs
from harness.scenario.objects import Objects
from harness.scenario.schema import Check
from harness.scenario.side_scheduler import SideScheduler


@dataclass(frozen=True)
class Seen:
    holds: bool
    text: str


@dataclass
class ClusterView:
    kube: Kube
    objects: Objects
    namespace: str
    provider: ClusterProvider | None
    logs: ComponentLogs
    scheduler: SideScheduler | None = None


def observe(view: ClusterView, check: Check) -> Seen:
    if check.kind == "pod":
        return _pod(view, check)
    if check.kind == "claim":
        return _claim(view, check)
    if check.kind == "event":
        return _event(view, check)
    if check.kind == "component":
        return _component(view, check)
    if check.kind == "free":
        return _free(view, check)
    return _log(view, check)


def pod_summary(pod: dict[str, Any] | None) -> str:
    if pod is None:
        return "gone"
    status = pod.get("status") or {}
    parts = [f"phase {status.get('phase', '?')}"]
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        parts.append("being deleted")
    node = (pod.get("spec") or {}).get("nodeName")
    parts.append(f"node {node}" if node else "not scheduled")
    for cond in status.get("conditions") or []:
        if cond.get("status") != "True" or cond.get("type") == "DisruptionTarget":
            parts.append(f"{cond.get('type')}={cond.get('status')} {cond.get('reason', '')}: {cond.get('message', '')}")
    for cs in status.get("containerStatuses") or []:
        for state, info in (cs.get("state") or {}).items():
            if state != "running" and info:
                parts.append(f"container {cs.get('name')} {state} {info.get('reason', '')}: {info.get('message', '')}")
    return "; ".join(p.strip() for p in parts)


def _messages(view: ClusterView, pod: dict[str, Any] | None, name: str) -> list[str]:
    out = []
    if pod is not None:
        status = pod.get("status") or {}
        out += [str(status.get("message", "")), str(status.get("reason", ""))]
        out += [str(c.get("message", "")) for c in status.get("conditions") or []]
        for cs in status.get("containerStatuses") or []:
            out += [str(info.get("message", "")) for info in (cs.get("state") or {}).values() if info]
    out += [str(e.get("message", "")) for e in view.kube.events(view.namespace, name)]
    return [m for m in out if m]


def _pod_state(pod: dict[str, Any] | None, state: str) -> bool:
    if state == "Evicted":
        if pod is None:
            return True
        conds = (pod.get("status") or {}).get("conditions") or []
        disrupted = any(c.get("type") == "DisruptionTarget" and c.get("status") == "True" for c in conds)
        return disrupted or (pod.get("status") or {}).get("reason") == "Evicted"
    if pod is None:
        return False
    phase = (pod.get("status") or {}).get("phase")
    scheduled = bool((pod.get("spec") or {}).get("nodeName"))
    if state == "Scheduled":
        return scheduled
    if state == "Pending":
        return phase == "Pending" and not scheduled
    return bool(phase == state)


def _pod(view: ClusterView, check: Check) -> Seen:
    pod = view.objects.get("Pod", check.target)
    holds = _pod_state(pod, check.state)
    if holds and check.message:
        found = [m for m in _messages(view, pod, check.target) if re.search(check.message, m)]
        holds = bool(found)
        if found:
            return Seen(True, f"{pod_summary(pod)}; message: {found[-1][:300]}")
    return Seen(holds, pod_summary(pod))


def claim_of(view: ClusterView, target: str) -> tuple[str, dict[str, Any] | None]:
    """The claim `target` names: a claim name, or POD/REF for the claim made from a pod's template."""
    pod_name, _, ref = target.partition("/")
    if not ref:
        return target, view.objects.get("ResourceClaim", target)
    pod = view.objects.get("Pod", pod_name)
    for status in ((pod or {}).get("status") or {}).get("resourceClaimStatuses") or []:
        if status.get("name") == ref and status.get("resourceClaimName"):
            name = str(status["resourceClaimName"])
            return name, view.objects.get("ResourceClaim", name)
    return target, None


def claim_summary(claim: dict[str, Any] | None) -> str:
    if claim is None:
        return "no such claim"
    status = claim.get("status") or {}
    allocation = status.get("allocation")
    if not allocation:
        return "not allocated"
    results = (allocation.get("devices") or {}).get("results") or []
    devices = ", ".join(_device_id(r) for r in results) or "no devices"
    reserved = [r.get("name") for r in status.get("reservedFor") or []]
    return f"allocated: {devices}; reserved for {reserved}"


def _device_id(result: dict[str, Any]) -> str:
    return f"{result.get('driver')}/{result.get('pool')}/{result.get('device')}"


def _claim(view: ClusterView, check: Check) -> Seen:
    _, claim = claim_of(view, check.target)
    summary = claim_summary(claim)
    allocation = ((claim or {}).get("status") or {}).get("allocation")
    if not check.allocated:
        return Seen(claim is not None and not allocation, summary)
    if not allocation:
        return Seen(False, summary)
    results = (allocation.get("devices") or {}).get("results") or []
    holds = check.count is None or len(results) == check.count
    if check.devices:
        holds = holds and all(re.search(check.devices, _device_id(r)) for r in results)
    return Seen(holds, summary)


def _event(view: ClusterView, check: Check) -> Seen:
    events = [*view.kube.events(view.namespace, check.target), *view.kube.events("default", check.target)]
    lines = [f"{e.get('reason')}: {e.get('message', '')}" for e in events]
    for event in events:
        if check.reason and event.get("reason") != check.reason:
            continue
        if check.message and not re.search(check.message, str(event.get("message", ""))):
            continue
        return Seen(True, f"{event.get('reason')}: {str(event.get('message', ''))[:300]}")
    return Seen(False, "; ".join(lines[-5:]) or f"no events on {check.target}")


def component_state(view: ClusterView, component: str) -> str:
    if component == "kube-scheduler" and view.scheduler is not None:
        return view.scheduler.state()
    if view.provider is not None:
        state = view.provider.status().components.get(component)
        if state is not None:
            return state
        if component == "drafarm-plugin":
            farm = view.provider.farm()
            if farm is None:
                return "no farm deployed"
            up = all(node.control.available() for node in farm.nodes)
            return "running" if up else "not answering"
    pods = view.kube.items("Pod", "kube-system", labels={"component": component})
    if not pods:
        return "unknown (no provider, no kube-system pod with this component label)"
    phases = {str((p.get("status") or {}).get("phase")) for p in pods}
    return "running" if phases == {"Running"} else f"pods {sorted(phases)}"


def _component(view: ClusterView, check: Check) -> Seen:
    state = component_state(view, check.target)
    return Seen(state.startswith("running") == check.running, state)


def _log(view: ClusterView, check: Check) -> Seen:
    if not view.logs.available():
        return Seen(False, "no provider: component logs cannot be read")
    text = view.logs.since_start(check.target)
    for line in text.splitlines():
        if re.search(check.message, line):
            return Seen(True, line[:300])
    return Seen(False, f"{len(text.splitlines())} new lines, none matching")


def _free(view: ClusterView, check: Check) -> Seen:
    """No claim anywhere on the cluster holds a device whose `driver/pool/device` matches."""
    held = []
    for claim in view.kube.items("ResourceClaim"):
        results = (((claim.get("status") or {}).get("allocation") or {}).get("devices") or {}).get("results") or []
        meta = claim["metadata"]
        held += [
            f"{_device_id(r)} by {meta['namespace']}/{meta['name']}"
            for r in results
            if re.search(check.target, _device_id(r))
        ]
    return Seen(not held, "; ".join(held[:5]) or "all free")
