"""The scenario document (`kind: Scenario`, apiVersion drafarm.dev/v1alpha1), checked field by field.

Every problem is collected and reported at once, as the farm spec does (`SpecError`: one line per
problem, with the field path, the value seen and what is allowed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from fakedevices.emulator.errors import RequestError
from fakedevices.plugin.control_protocol import REQUESTS, ControlRequest, parse_request
from fakedevices.spec.document import open_document
from fakedevices.spec.problems import MISSING, Problem, SpecError
from fakedevices.spec.reader import DNS_LABEL, DNS_SUBDOMAIN, Reader
from harness.scenario.objects import KINDS, VARIABLES

API_VERSION = "drafarm.dev/v1alpha1"
MAX_STEPS = 200
MAX_WAIT_S = 1800
DEFAULT_WAIT_S = 90
COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "containerd",
    "drafarm-plugin",
)
POD_STATES = ("Running", "Pending", "Scheduled", "Evicted", "Succeeded", "Failed")
STEP_KINDS = ("create", "delete", "fault", "restart", "wait")
CHECK_KINDS = ("pod", "claim", "event", "component", "log", "free")
_RELEASE = re.compile(r"^v1\.\d+\.\d+$")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_CLAIM_REF = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(/[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$")


@dataclass(frozen=True)
class Check:
    """One condition on the cluster: a pod's state, a claim's allocation, an event, a component, a log line."""

    kind: str
    target: str
    path: str
    state: str = ""
    message: str = ""
    reason: str = ""
    allocated: bool = True
    devices: str = ""
    count: int | None = None
    running: bool = True
    within: float = DEFAULT_WAIT_S
    hold_for: float = 0.0

    def describe(self) -> str:
        if self.kind == "pod":
            text = f"pod {self.target} {self.state}"
            if self.message:
                text += f" with a message matching /{self.message}/"
            return text + (f" for {self.hold_for:g}s" if self.hold_for else "")
        if self.kind == "claim":
            if not self.allocated:
                return f"claim {self.target} not allocated"
            text = f"claim {self.target} allocated"
            if self.count is not None:
                text += f" with {self.count} device(s)"
            return text + (f", every device matching /{self.devices}/" if self.devices else "")
        if self.kind == "event":
            what = f"an event {self.reason or ''}".rstrip()
            return f"{what} on {self.target}" + (f" matching /{self.message}/" if self.message else "")
        if self.kind == "component":
            return f"{self.target} {'still running' if self.running else 'not running'}"
        if self.kind == "free":
            return f"no claim holds a device matching /{self.target}/"
        return f"{self.target} log has a line matching /{self.message}/"


@dataclass(frozen=True)
class Step:
    kind: str
    path: str
    objects: tuple[dict[str, Any], ...] = ()
    ref: dict[str, str] = field(default_factory=dict)
    fault: ControlRequest[Any] | None = None
    node: str = ""
    component: str = ""
    check: Check | None = None

    def describe(self) -> str:
        if self.kind == "create":
            return "create " + ", ".join(f"{o['kind']} {o['metadata']['name']}" for o in self.objects)
        if self.kind == "delete":
            return f"delete {self.ref['kind']} {self.ref['name']}"
        if self.kind == "fault":
            assert self.fault is not None
            return f"fault {self.fault.describe()}"
        if self.kind == "restart":
            return f"restart {self.component}"
        assert self.check is not None
        return f"wait for {self.check.describe()}"


@dataclass(frozen=True)
class VersionExpectation:
    bug: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()

    def expected(self, version: str) -> str:
        """ "reproduced", "not reproduced", or "" when the scenario says nothing about `version`."""
        if version in self.bug:
            return "reproduced"
        if version in self.fixed:
            return "not reproduced"
        return ""


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str
    description: str
    links: tuple[str, ...]
    farm: str | dict[str, Any]
    nodes: int
    feature_gates: tuple[str, ...]
    steps: tuple[Step, ...]
    expectations: tuple[Check, ...]
    symptoms: tuple[Check, ...]
    versions: VersionExpectation
    bug_in: str = ""
    """The one component the bug lives in (`kube-scheduler`: runs of other versions can use a scheduler
    of that version beside the running cluster's)."""


def parse_scenario(document: Any, source: str = "scenario") -> Scenario:
    """Validate a parsed document; raise SpecError with every problem found."""
    root, meta = open_document(document, API_VERSION, "Scenario")
    name = meta.string("name", pattern=DNS_LABEL, pattern_help="a DNS label such as kubernetes-135901")
    description = meta.string("description", "")
    links = tuple(meta.string_list("links"))
    meta.finish()
    spec = root.child("spec")
    if not root.has("spec"):
        root.problem("spec", MISSING, "required: farm, steps and expectations")
    farm = _farm(spec)
    nodes = spec.integer("nodes", 1, minimum=1, maximum=5000)
    gates = tuple(spec.string_list("featureGates"))
    for i, gate in enumerate(gates):
        if not re.match(r"^[A-Z][A-Za-z0-9]*$", gate):
            spec.problem(f"{spec.at('featureGates')}[{i}]", gate, "a feature gate name such as DRADeviceTaints")
    default_wait = spec.number("timeout", DEFAULT_WAIT_S, minimum=1, maximum=MAX_WAIT_S)
    steps = tuple(_step(item, default_wait) for item in spec.items("steps"))
    if len(steps) > MAX_STEPS:
        spec.problem(spec.at("steps"), f"{len(steps)} steps", f"at most {MAX_STEPS} steps")
    if not steps and spec.valid and root.has("spec"):
        spec.problem(spec.at("steps"), MISSING, "at least one step is required")
    expectations = tuple(_check(item, default_wait) for item in spec.items("expectations"))
    if not expectations and spec.valid and root.has("spec"):
        spec.problem(spec.at("expectations"), MISSING, "at least one expectation is required: what should happen")
    symptoms = tuple(_check(item, default_wait) for item in spec.items("symptoms"))
    versions = _versions(spec.child("expect"))
    bug_in = spec.string("bugIn", "", choices=COMPONENTS)
    spec.finish()
    root.finish()
    _check_names(spec, steps, expectations, symptoms)
    if root.problems:
        raise SpecError(source, root.problems)
    return Scenario(
        name, source, description, links, farm, nodes, gates, steps, expectations, symptoms, versions, bug_in
    )


def _farm(spec: Reader) -> str | dict[str, Any]:
    value = spec.raw("farm")
    if value is MISSING:
        return "small"
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict):
        return value
    spec.problem(spec.at("farm"), value, "a farm spec path, an example name (small, mixed), or an inline Farm document")
    return "small"


def _versions(r: Reader) -> VersionExpectation:
    bug = tuple(_release_list(r, "bug"))
    fixed = tuple(_release_list(r, "fixed"))
    for version in set(bug) & set(fixed):
        r.problem(r.at("fixed"), version, "a version cannot be both in bug and in fixed")
    r.finish()
    return VersionExpectation(bug, fixed)


def _release_list(r: Reader, key: str) -> list[str]:
    out = []
    for i, version in enumerate(r.string_list(key)):
        if not _RELEASE.match(version):
            r.problem(f"{r.at(key)}[{i}]", version, "a Kubernetes release such as v1.34.3")
        out.append(version)
    return out


def _one_of(r: Reader, kinds: tuple[str, ...], what: str) -> str | None:
    """The one key of `kinds` the mapping has; None (a problem recorded, every key read) otherwise."""
    present = [k for k in kinds if r.has(k)]
    if len(present) == 1:
        return present[0]
    r.problem(r.path, present or sorted(str(k) for k in r.data), f"{what}exactly one of: {', '.join(kinds)}")
    for key in r.data:
        r.raw(str(key))
    return None


def _step(r: Reader, default_wait: float) -> Step:
    kind = _one_of(r, STEP_KINDS, "a step has ")
    if kind is None:
        return Step("invalid", r.path)
    step: Step
    if kind == "create":
        step = Step("create", r.path, objects=tuple(_objects(r, "create")))
    elif kind == "delete":
        ref = r.child("delete")
        kind_name = ref.string("kind", choices=tuple(KINDS))
        obj_name = ref.string("name", pattern=DNS_SUBDOMAIN, pattern_help="the object's name")
        ns = ref.string("namespace", "")
        ref.finish()
        step = Step("delete", r.path, ref={"kind": kind_name, "name": obj_name, "namespace": ns})
    elif kind == "fault":
        step = _fault(r.child("fault"), r.path)
    elif kind == "restart":
        component = r.string("restart", choices=COMPONENTS)
        step = Step("restart", r.path, component=component)
    else:
        step = Step("wait", r.path, check=_check(r.child("wait"), default_wait))
    r.finish()
    return step


def _fault(f: Reader, path: str) -> Step:
    op = f.string("op", choices=tuple(o for o in REQUESTS if o != "status"))
    node = f.string("node", "")
    takes = ["node", *(a.name for a in fields(REQUESTS[op]))] if op in REQUESTS else []
    message: dict[str, Any] = {"op": op}
    for key in f.data:
        if key in ("op", "node"):
            continue
        value = f.raw(str(key))
        if not isinstance(value, str | int | float | bool):
            f.problem(f.at(str(key)), value, "fault arguments are strings, numbers or booleans (see `drafarm fault`)")
        elif takes and key not in takes:
            f.problem(f.at(str(key)), value, f"fault {op} takes only: {', '.join(takes)}")
        message[str(key)] = value
    f.finish()
    fault = None
    if op in REQUESTS:
        try:
            fault = parse_request(message)
        except RequestError as exc:
            f.problem(f.path, message, str(exc))
    return Step("fault", path, fault=fault, node=node)


def _objects(r: Reader, key: str) -> list[dict[str, Any]]:
    value = r.raw(key)
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        r.problem(r.at(key), value, "at least one Kubernetes object")
    out = []
    for i, item in enumerate(items):
        path = f"{r.at(key)}[{i}]" if isinstance(value, list) else r.at(key)
        obj = _object(item, path, r.problems)
        if obj is not None:
            out.append(obj)
    return out


def _object(item: Any, path: str, problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        problems.append(Problem(path, item, "a Kubernetes object: apiVersion, kind, metadata.name, ..."))
        return None
    kind = item.get("kind", MISSING)
    ok = True
    if not isinstance(kind, str) or kind not in KINDS:
        problems.append(Problem(f"{path}.kind", kind, "one of: " + ", ".join(KINDS)))
        ok = False
    api = item.get("apiVersion", MISSING)
    if ok and api not in KINDS[kind].api_versions:
        problems.append(Problem(f"{path}.apiVersion", api, "one of: " + ", ".join(KINDS[kind].api_versions)))
        ok = False
    meta = item.get("metadata")
    name = meta.get("name", MISSING) if isinstance(meta, dict) else MISSING
    if not isinstance(name, str) or not DNS_SUBDOMAIN.match(_expand_for_check(name)):
        problems.append(
            Problem(f"{path}.metadata.name", name, "a lowercase DNS name (variables like ${namespace} allowed)")
        )
        ok = False
    if ok and isinstance(meta, dict) and "namespace" in meta and not KINDS[kind].namespaced:
        problems.append(Problem(f"{path}.metadata.namespace", meta["namespace"], f"a {kind} has no namespace"))
        ok = False
    for where, variable in _variables(item, path):
        if variable not in VARIABLES:
            problems.append(Problem(where, "${" + variable + "}", "known variables: " + ", ".join(VARIABLES)))
            ok = False
    return item if ok else None


def _expand_for_check(text: str) -> str:
    return _VARIABLE.sub("x", text)


def _variables(value: Any, path: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(value, str):
        found += [(path, m.group(1)) for m in _VARIABLE.finditer(value)]
    elif isinstance(value, dict):
        for k, v in value.items():
            found += _variables(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _variables(v, f"{path}[{i}]")
    return found


def _check(r: Reader, default_wait: float) -> Check:
    kind = _one_of(r, CHECK_KINDS, "")
    if kind is None:
        return Check("invalid", "", r.path)
    within = r.number("within", default_wait, minimum=0, maximum=MAX_WAIT_S)
    if kind == "pod":
        target = r.string("pod", pattern=DNS_SUBDOMAIN, pattern_help="the pod's name")
        state = r.string("state", choices=POD_STATES)
        message = _regex(r, "message")
        hold = r.number("holdFor", 0.0, minimum=0, maximum=MAX_WAIT_S)
        check = Check("pod", target, r.path, state=state, message=message, within=within, hold_for=hold)
    elif kind == "claim":
        target = r.string(
            "claim", pattern=_CLAIM_REF, pattern_help="a claim's name, or POD/REF for the claim a pod's template made"
        )
        allocated = r.boolean("allocated", True)
        devices = _regex(r, "devices")
        count = r.integer("count", -1, minimum=0, maximum=10_000) if r.has("count") else None
        check = Check("claim", target, r.path, allocated=allocated, devices=devices, count=count, within=within)
    elif kind == "event":
        ev = r.child("event")
        target = ev.string("involved", pattern=DNS_SUBDOMAIN, pattern_help="the involved object's name")
        reason = ev.string("reason", "")
        message = _regex(ev, "message")
        ev.finish()
        check = Check("event", target, r.path, reason=reason, message=message, within=within)
    elif kind == "component":
        target = r.string("component", choices=COMPONENTS)
        running = r.boolean("running", True)
        check = Check("component", target, r.path, running=running, within=within)
    elif kind == "free":
        target = _regex(r, "free", required=True)
        for where, variable in _variables(target, r.at("free")):
            if variable not in VARIABLES:
                r.problem(where, "${" + variable + "}", "known variables: " + ", ".join(VARIABLES))
        check = Check("free", target, r.path, within=within)
    else:
        log = r.child("log")
        target = log.string("component", choices=COMPONENTS)
        message = _regex(log, "matches", required=True)
        log.finish()
        check = Check("log", target, r.path, message=message, within=within)
    r.finish()
    return check


def _regex(r: Reader, key: str, required: bool = False) -> str:
    text = r.string(key, None if required else "")
    try:
        re.compile(text)
    except re.error as exc:
        r.problem(r.at(key), text, f"not a regular expression ({exc})")
    return text


def _check_names(spec: Reader, steps: tuple[Step, ...], *checks: tuple[Check, ...]) -> None:
    created = {(o["kind"], o["metadata"]["name"]) for s in steps for o in s.objects}
    named = {n for _, n in created}
    for group in (*checks, tuple(s.check for s in steps if s.check is not None)):
        for check in group:
            if check.kind in ("pod", "claim") and check.target and not _known(check, created, named):
                spec.problem(
                    f"{check.path}.{check.kind}",
                    check.target,
                    f"no step creates this {check.kind}; created: {', '.join(sorted(named)) or 'nothing'}",
                )


def _known(check: Check, created: set[tuple[str, str]], named: set[str]) -> bool:
    if check.kind == "pod":
        return ("Pod", check.target) in created
    pod, _, ref = check.target.partition("/")
    if ref:
        return ("Pod", pod) in created
    return ("ResourceClaim", check.target) in created
