"""Scenario files: the shipped ones are valid, and every kind of mistake is one line naming the field,
the value and the fix, before anything touches a cluster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from fakedevices.plugin.control_protocol import DelayPrepares, SetHealth
from fakedevices.spec.problems import SpecError
from harness.scenario.loader import load_scenario, scenario_farm
from harness.scenario.objects import fill
from harness.scenario.result import CheckResult, RunResult
from harness.scenario.schema import parse_scenario

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
ISSUES = ("135901", "134434", "138882", "139016")


def _minimal() -> dict[str, Any]:
    return {
        "apiVersion": "drafarm.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "t"},
        "spec": {
            "steps": [
                {
                    "create": {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"name": "p"},
                        "spec": {"containers": [{"name": "c", "image": "${image}"}]},
                    }
                }
            ],
            "expectations": [{"pod": "p", "state": "Running"}],
        },
    }


def _problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_scenario(document, "t.yaml")
    return str(info.value).splitlines()


def test_the_four_known_bugs_are_shipped_and_valid() -> None:
    names = {p.stem for p in SHIPPED}
    assert {f"kubernetes-{n}" for n in ISSUES} <= names
    scheduler_bugs = {load_scenario(p).name for p in SHIPPED if load_scenario(p).bug_in == "kube-scheduler"}
    assert scheduler_bugs == {"kubernetes-134434", "kubernetes-138882", "kubernetes-139016"}
    for path in SHIPPED:
        scenario = load_scenario(path)
        assert scenario.versions.bug and scenario.versions.fixed, path
        assert scenario.symptoms, f"{path}: a known bug names its symptoms"
        assert scenario_farm(scenario).farm.driver == "drafarm.dev"


def test_a_minimal_scenario_parses_with_defaults() -> None:
    scenario = parse_scenario(_minimal())
    assert scenario.farm == "small" and scenario.nodes == 1
    assert [s.kind for s in scenario.steps] == ["create"]
    assert scenario.expectations[0].describe() == "pod p Running"
    assert scenario.versions.expected("v1.34.3") == ""


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.update(kind="Farm"), 'kind: got "Farm"; allowed: Scenario'),
        (lambda d: d["spec"].update(colour="red"), "spec.colour: got"),
        (lambda d: d["spec"]["steps"][0].update(restart="kubelet"), "spec.steps[0]: got"),
        (
            lambda d: d["spec"]["steps"][0]["create"].update(kind="Deployment"),
            'spec.steps[0].create.kind: got "Deployment"; one of: DeviceClass',
        ),
        (
            lambda d: d["spec"]["steps"].append(
                {"create": {"apiVersion": "resource.k8s.io/v1", "kind": "DeviceTaintRule", "metadata": {"name": "x"}}}
            ),
            'spec.steps[1].create.apiVersion: got "resource.k8s.io/v1"; one of: resource.k8s.io/v1beta2',
        ),
        (
            lambda d: d["spec"]["steps"][0]["create"]["metadata"].update(name="${nodename}"),
            'spec.steps[0].create.metadata.name: got "${nodename}"; known variables: namespace',
        ),
        (lambda d: d["spec"]["steps"].append({"restart": "kube-proxy"}), 'spec.steps[1].restart: got "kube-proxy"'),
        (lambda d: d["spec"]["steps"].append({"fault": {"op": "explode"}}), 'spec.steps[1].fault.op: got "explode"'),
        (
            lambda d: d["spec"]["steps"].append({"fault": {"op": "fail-prepares", "count": -2}}),
            'spec.steps[1].fault: got {"count": -2, "op": "fail-prepares"}; count must be a whole number >= 0',
        ),
        (
            lambda d: d["spec"]["steps"].append({"fault": {"op": "kill", "device": "gpu-0"}}),
            'spec.steps[1].fault.device: got "gpu-0"; fault kill takes only: node',
        ),
        (
            lambda d: d["spec"]["steps"].append({"fault": {"op": "set-health", "health": "sick"}}),
            'spec.steps[1].fault: got {"health": "sick", "op": "set-health"}; set-health: \'device\' is required',
        ),
        (
            lambda d: d["spec"]["expectations"].append({"claim": "nope"}),
            'spec.expectations[1].claim: got "nope"; no step creates this claim',
        ),
        (
            lambda d: d["spec"]["expectations"][0].update(message="(unclosed"),
            'spec.expectations[0].message: got "(unclosed"; not a regular expression',
        ),
        (
            lambda d: d["spec"]["expectations"][0].update(state="Happy"),
            'spec.expectations[0].state: got "Happy"; allowed: Running, Pending',
        ),
        (lambda d: d["spec"].update(expect={"bug": ["1.34"]}), 'spec.expect.bug[0]: got "1.34"; a Kubernetes release'),
        (
            lambda d: d["spec"].update(expect={"bug": ["v1.34.3"], "fixed": ["v1.34.3"]}),
            'spec.expect.fixed: got "v1.34.3"; a version cannot be both',
        ),
        (lambda d: d["spec"].update(expectations=[]), "spec.expectations: got nothing; at least one expectation"),
        (lambda d: d["spec"].update(featureGates=["dra taints"]), 'spec.featureGates[0]: got "dra taints"'),
        (lambda d: d["spec"].update(farm=7), "spec.farm: got 7; a farm spec path"),
        (
            lambda d: d["spec"]["steps"].append({"wait": {"free": "${pol}/gpu-0"}}),
            'spec.steps[1].wait.free: got "${pol}"; known variables',
        ),
        (lambda d: d["spec"].update(bugIn="etcd3"), 'spec.bugIn: got "etcd3"; allowed: etcd, kube-apiserver'),
    ],
)
def test_each_mistake_is_one_line_with_path_value_and_fix(edit: Any, expected: str) -> None:
    document = _minimal()
    edit(document)
    lines = _problems(document)
    assert any(line.startswith("t.yaml: ") and expected in line for line in lines), lines


def test_a_fault_step_is_the_plugin_control_request_it_names() -> None:
    document = _minimal()
    document["spec"]["steps"] += [
        {"fault": {"op": "set-health", "device": "gpu-1", "health": "unhealthy", "node": "n"}},
        {"fault": {"op": "delay-prepares", "seconds": 3}},
    ]
    sick, slow = parse_scenario(document).steps[1:]
    assert sick.fault == SetHealth("gpu-1", "unhealthy") and sick.node == "n"
    assert slow.fault == DelayPrepares(3)
    assert [sick.describe(), slow.describe()] == [
        "fault set-health device=gpu-1 health=unhealthy",
        "fault delay-prepares seconds=3",
    ]


def test_every_problem_is_reported_at_once() -> None:
    document = _minimal()
    document["kind"] = "Farm"
    document["spec"]["expectations"][0]["state"] = "Happy"
    document["spec"]["steps"][0]["create"]["kind"] = "Deployment"
    assert len(_problems(document)) >= 3


def test_claims_made_from_templates_are_named_pod_slash_claim() -> None:
    document = _minimal()
    document["spec"]["expectations"].append({"claim": "p/gpu", "count": 1})
    assert parse_scenario(document).expectations[1].target == "p/gpu"
    document["spec"]["expectations"].append({"claim": "q/gpu"})
    assert any('got "q/gpu"; no step creates this claim' in line for line in _problems(document))


def test_variables_are_filled_in_every_string() -> None:
    obj = {"metadata": {"name": "${namespace}-gpu"}, "spec": {"list": ["${driver}", 3, {"x": "${node}/${pool}"}]}}
    filled = fill(obj, {"namespace": "ns", "driver": "d", "node": "n", "pool": "p"})
    assert filled == {"metadata": {"name": "ns-gpu"}, "spec": {"list": ["d", 3, {"x": "n/p"}]}}


def _result(expectations: list[bool], symptoms: list[bool], reason: str = "") -> RunResult:
    result = RunResult("s", "v1.34.3", reason=reason)
    result.expectations = [CheckResult(f"e{i}", ok, "") for i, ok in enumerate(expectations)]
    result.symptoms = [CheckResult(f"s{i}", ok, "") for i, ok in enumerate(symptoms)]
    return result


def test_verdicts() -> None:
    assert _result([True, True], []).verdict == "not reproduced"
    assert _result([True, False], []).verdict == "reproduced"
    assert _result([False], [True, True]).verdict == "reproduced"
    assert _result([False], [True, False]).verdict == "inconclusive"
    assert _result([], [], reason="step 2: create Pod p failed").verdict == "error"
    assert _result([], [], reason="skipped: feature gate(s) X off").verdict == "skipped"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "scenario", *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_cli_validate_lists_problems_and_exits_2(tmp_path: Path) -> None:
    document = _minimal()
    document["spec"]["steps"][0]["create"]["kind"] = "Deployment"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document))
    proc = _cli("validate", str(bad))
    assert proc.returncode == 2
    assert f'{bad}: spec.steps[0].create.kind: got "Deployment"' in proc.stderr
    assert "nothing was created" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_run_of_a_wrong_file_touches_no_cluster(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: drafarm.dev/v1alpha1\nkind: Scenario\nmetadata: {name: x}\nspec: {steps: []}\n")
    unreachable = tmp_path / "kubeconfig"
    unreachable.write_text("not a kubeconfig")
    proc = _cli("run", str(bad), "--kubeconfig", str(unreachable))
    assert proc.returncode == 2, proc.stderr
    assert "spec.steps: got nothing; at least one step is required" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_validates_the_shipped_scenarios() -> None:
    proc = _cli("validate", *map(str, SHIPPED))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("valid scenario") == len(SHIPPED)


def test_a_file_that_is_not_yaml_names_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: [unclosed\n")
    with pytest.raises(SpecError, match=r"line \d+, column \d+"):
        load_scenario(bad)


def test_the_scheduler_beside_the_cluster_has_its_own_name_port_and_gates(tmp_path: Path) -> None:
    from harness.scenario.side_scheduler import SCHEDULER_NAME, SideScheduler

    side = SideScheduler("1.36.3", tmp_path / "admin.conf")
    try:
        cmd = side.command(Path("/bin/kube-scheduler"))
        config = Path(next(a for a in cmd if a.startswith("--config=")).split("=", 1)[1]).read_text()
        assert f"schedulerName: {SCHEDULER_NAME}" in config and "leaderElect: false" in config
        assert f"kubeconfig: {tmp_path / 'admin.conf'}" in config
        assert f"--secure-port={side.port}" in cmd and "--bind-address=127.0.0.1" in cmd
        gates = next(a for a in cmd if a.startswith("--feature-gates="))
        assert "DRAPartitionableDevices=true" in gates
        assert side.state() == "not started" and not side.running()
    finally:
        side.close()
