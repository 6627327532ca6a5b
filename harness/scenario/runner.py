"""Playing a scenario's steps on a cluster, then judging its expectations (and, when one fails, its
symptoms); everything the run created is removed afterwards, whatever happened."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from lightkube import ApiError

from clusters.polling import poll
from fakedevices.plugin.control_client import ControlError
from fakedevices.plugin.control_protocol import ControlRequest, SetHealth
from harness.environment import WORKLOAD_IMAGE
from harness.scenario import diagnostics, record
from harness.scenario.conditions import ClusterView, observe
from harness.scenario.objects import DELETE_ORDER, KINDS, Objects, fill
from harness.scenario.result import CheckResult, RunResult, StepResult
from harness.scenario.schema import Check, Scenario, Step
from harness.scenario.side_scheduler import SCHEDULER_NAME
from harness.scenario.target import Target

POLL_S = 0.5
CLEANUP_S = 120.0
Printer = Callable[[str], None]


class StepFailed(RuntimeError):
    pass


class Runner:
    def __init__(self, scenario: Scenario, target: Target, out: Printer) -> None:
        self.scenario = scenario
        self.target = target
        self.out = out
        self.namespace = f"scn-{scenario.name[:40]}-{uuid.uuid4().hex[:5]}"
        self.objects = Objects(target.kube.client, self.namespace)
        self.view = ClusterView(
            target.kube, self.objects, self.namespace, target.provider, target.logs, target.scheduler
        )
        self.created: list[dict[str, Any]] = []
        self.faults: list[tuple[str, ControlRequest[Any]]] = []
        """(node, fault) of each fault step run, to undo at the end."""
        self.variables: dict[str, str] = {}

    def run(self, record_dir: Path | None = None) -> RunResult:
        result = RunResult(self.scenario.name, self.target.behaves_as)
        missing = [g for g in self.scenario.feature_gates if self.target.gate(g) is False]
        if missing:
            result.reason = f"skipped: feature gate(s) {', '.join(missing)} off on this cluster"
            return result
        try:
            self._setup()
            for index, step in enumerate(self.scenario.steps, 1):
                shown = replace(step, objects=tuple(fill(o, self.variables) for o in step.objects))
                text = f"step {index}: {shown.describe()}"
                try:
                    detail = self._step(step)
                except (StepFailed, ApiError, ControlError, OSError) as exc:
                    result.steps.append(StepResult(text, False, _error_text(exc)))
                    self.out(f"  FAILED {text}: {_error_text(exc)}")
                    result.reason = f"{text} failed"
                    break
                result.steps.append(StepResult(text, True, detail))
                self.out(f"  ok  {text}" + (f" — {detail}" if detail else ""))
            if not result.reason:
                self._judge(result)
            if not result.passed:
                result.diagnostics = diagnostics.gather(self.view, self.scenario, result)
            if record_dir is not None:
                record.write(record_dir, self.view, self.created, result)
        finally:
            result.cleanup = self._cleanup()
        return result

    def _setup(self) -> None:
        kube = self.target.kube
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}})
        self._until(lambda: kube.get("ServiceAccount", "default", self.namespace) is not None, 60, "service account")
        node = self.target.farm_node
        self.variables = {
            "namespace": self.namespace,
            "node": node,
            "pool": self.target.pool_of(node),
            "driver": self.target.driver,
            "image": WORKLOAD_IMAGE,
            "scenario": self.scenario.name,
        }
        self.out(f"  namespace {self.namespace}, node {node}, driver {self.target.driver}")

    def _step(self, step: Step) -> str:
        if step.kind == "create":
            for obj in step.objects:
                made = self.objects.create(self._scheduled_by_ours(fill(obj, self.variables)))
                self.created.append(made)
            return ""
        if step.kind == "delete":
            ref = step.ref
            ns = ref["namespace"] or None
            self.objects.delete(ref["kind"], ref["name"], ns)
            self._until(lambda: self.objects.get(ref["kind"], ref["name"], ns) is None, 120, "the object to go")
            return "gone"
        if step.kind == "fault":
            assert step.fault is not None
            answer = self.target.control(step.node).send(step.fault)
            self.faults.append((step.node, step.fault))
            return _short(step.fault.answer.write(answer))
        if step.kind == "restart":
            self.target.restart(step.component)
            return "serving again"
        assert step.check is not None
        seen = self._wait(step.check)
        if not seen.ok:
            raise StepFailed(f"not within {step.check.within:g}s; last seen: {seen.seen}")
        return seen.seen

    def _scheduled_by_ours(self, obj: dict[str, Any]) -> dict[str, Any]:
        if obj["kind"] != "Pod" or self.target.scheduler is None or obj.get("spec", {}).get("schedulerName"):
            return obj
        return {**obj, "spec": {**obj["spec"], "schedulerName": SCHEDULER_NAME}}

    def _judge(self, result: RunResult) -> None:
        self.out("expectations:")
        for check in self.scenario.expectations:
            outcome = self._wait(check)
            result.expectations.append(outcome)
            self.out(f"  {'PASS' if outcome.ok else 'FAIL'} {outcome.description} — saw: {outcome.seen}")
        if result.passed or not self.scenario.symptoms:
            return
        self.out("symptoms of the bug:")
        for check in self.scenario.symptoms:
            outcome = self._wait(check)
            result.symptoms.append(outcome)
            self.out(f"  {'SEEN' if outcome.ok else 'not seen'} {outcome.description} — saw: {outcome.seen}")

    def _wait(self, check: Check) -> CheckResult:
        """Poll until the check holds (then, with holdFor, until it held that long) or its time is up."""
        check = replace(
            check,
            target=fill(check.target, self.variables),
            message=fill(check.message, self.variables),
            devices=fill(check.devices, self.variables),
        )
        seen = poll(lambda: observe(self.view, check), check.within, POLL_S, done=lambda s: s.holds)
        if seen.holds and check.hold_for:
            seen = poll(lambda: observe(self.view, check), check.hold_for, POLL_S, done=lambda s: not s.holds)
            if not seen.holds:
                return CheckResult(check.describe(), False, f"held, then stopped: {seen.text}")
        return CheckResult(check.describe(), seen.holds, seen.text)

    def _until(self, probe: Callable[[], bool], timeout: float, what: str) -> None:
        if not poll(probe, timeout, POLL_S):
            raise StepFailed(f"timed out after {timeout:g}s waiting for {what}")

    def _cleanup(self) -> list[str]:
        notes = []
        for node, fault in self.faults:
            try:
                control = self.target.control(node)
                control.clear()
                if isinstance(fault, SetHealth):
                    control.set_health(fault.device, "healthy")
            except (ControlError, OSError) as exc:
                notes.append(f"could not undo fault {fault.describe()} on node {node or 'default'}: {exc}")
        notes += self._remove_pods()
        order = {k: i for i, k in enumerate(DELETE_ORDER)}
        cluster_scoped = [o for o in self.created if not KINDS[o["kind"]].namespaced]
        for obj in sorted(cluster_scoped, key=lambda o: order.get(o["kind"], len(order))):
            try:
                self.objects.delete(obj["kind"], obj["metadata"]["name"], api_version=obj["apiVersion"])
            except ApiError as exc:
                notes.append(f"could not delete {obj['kind']} {obj['metadata']['name']}: {exc.status.message}")
        try:
            self.target.kube.delete("Namespace", self.namespace)
            self._until(lambda: self.target.kube.get("Namespace", self.namespace) is None, CLEANUP_S, "namespace")
        except (ApiError, StepFailed) as exc:
            notes.append(f"namespace {self.namespace} not gone yet: {_error_text(exc)}")
        notes += self.target.repair()
        return notes

    def _remove_pods(self) -> list[str]:
        """Pods first, and wait until they are gone, so the next run finds the devices free. A pod on a
        node the scenario made (no kubelet there) is removed at once."""
        virtual = {o["metadata"]["name"] for o in self.created if o["kind"] == "Node"}
        try:
            for pod in self.objects.list("Pod"):
                node = (pod.get("spec") or {}).get("nodeName")
                grace = 0 if node in virtual or not node else None
                self.objects.delete("Pod", pod["metadata"]["name"], grace=grace)
            self._until(lambda: not self.objects.list("Pod"), CLEANUP_S, "the scenario's pods to go")
        except (ApiError, StepFailed) as exc:
            return [f"pods not gone yet: {_error_text(exc)}"]
        return []


def _short(value: Any, limit: int = 160) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return f"API error {exc.status.code}: {exc.status.message}"
    return str(exc)
