"""What to show when a scenario did not behave: events, claims, pods, and the scheduler's, kubelet's
and controller-manager's log lines that mention the scenario's objects (or look like errors)."""

from __future__ import annotations

from harness.scenario.conditions import ClusterView, claim_summary, pod_summary
from harness.scenario.logs import lines_around
from harness.scenario.result import RunResult
from harness.scenario.schema import Scenario

LOGGED = ("kube-scheduler", "kubelet", "kube-controller-manager", "drafarm-plugin")


def gather(view: ClusterView, scenario: Scenario, result: RunResult) -> list[str]:
    out = []
    for pod in view.objects.list("Pod"):
        out.append(f"pod {pod['metadata']['name']}: {pod_summary(pod)}")
    for claim in view.objects.list("ResourceClaim"):
        out.append(f"claim {claim['metadata']['name']}: {claim_summary(claim)}")
    for event in view.kube.events(view.namespace)[-15:]:
        involved = (event.get("involvedObject") or {}).get("name")
        out.append(f"event {event.get('type')} {event.get('reason')} {involved}: {str(event.get('message', ''))[:300]}")
    if not view.logs.available():
        out.append("component logs: not available without a provider (--kubeconfig)")
        return out
    needles = [view.namespace]
    for component in LOGGED:
        lines = lines_around(view.logs.since_start(component), needles)
        if lines:
            out.append(f"{component} log (since the scenario began):")
            out += [f"  {line}" for line in lines]
    return out
