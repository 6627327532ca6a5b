"""Scenarios end to end on the run's shared local cluster: the shipped known bugs behave as their
`expect` says for this version, a real misbehaviour is judged "reproduced" with what the cluster
showed, and a captured cluster state replays."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from clusters.local.provider import LocalProvider
from harness.environment import WORKLOAD_IMAGE
from harness.kube import Kube
from harness.scenario.capture import capture_scenario
from harness.scenario.loader import load_scenario
from harness.scenario.play import play
from harness.scenario.report import as_expected
from harness.scenario.schema import parse_scenario
from tests.polling import wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
WHOLE_GPU = 'device.driver == "${driver}" && device.attributes["${driver}"].type == "gpu"'


@pytest.mark.scenario_heavy
@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_a_shipped_scenario_behaves_as_expected_for_this_version(farm_cluster: LocalProvider, path: Path) -> None:
    lines: list[str] = []
    scenario = load_scenario(path)
    result = play(scenario, out=lines.append)
    assert as_expected(scenario, result), "\n".join(lines)
    if result.version in scenario.versions.fixed or not scenario.versions.expected(result.version):
        assert result.verdict == "not reproduced", "\n".join(lines)
        assert all(e.ok for e in result.expectations)
        assert any("PASS" in line for line in lines)


def _impossible(version: str) -> dict[str, object]:
    """A "bug" every version has: a claim for 5 of the farm's 4 GPUs never lets its pod run."""
    return {
        "apiVersion": "drafarm.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "too-many-gpus"},
        "spec": {
            "expect": {"bug": [version]},
            "steps": [
                {
                    "create": {
                        "apiVersion": "resource.k8s.io/v1",
                        "kind": "DeviceClass",
                        "metadata": {"name": "${namespace}-gpu"},
                        "spec": {"selectors": [{"cel": {"expression": WHOLE_GPU}}]},
                    }
                },
                {
                    "create": {
                        "apiVersion": "resource.k8s.io/v1",
                        "kind": "ResourceClaim",
                        "metadata": {"name": "greedy"},
                        "spec": {
                            "devices": {
                                "requests": [
                                    {"name": "gpu", "exactly": {"deviceClassName": "${namespace}-gpu", "count": 5}}
                                ]
                            }
                        },
                    }
                },
                {
                    "create": {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"name": "hungry"},
                        "spec": {
                            "terminationGracePeriodSeconds": 1,
                            "resourceClaims": [{"name": "gpu", "resourceClaimName": "greedy"}],
                            "containers": [
                                {"name": "main", "image": "${image}", "command": ["sh", "-c", "sleep 3600"]}
                            ],
                        },
                    }
                },
            ],
            "expectations": [{"pod": "hungry", "state": "Running", "within": 15}],
            "symptoms": [{"pod": "hungry", "state": "Pending", "message": "cannot allocate all claims", "within": 30}],
        },
    }


def test_a_failing_expectation_with_its_symptom_seen_is_reproduced(farm_cluster: LocalProvider, tmp_path: Path) -> None:
    version = farm_cluster.status().kubernetes_version
    scenario = parse_scenario(_impossible(version), "too-many-gpus")
    lines: list[str] = []
    result = play(scenario, record=tmp_path / "record", out=lines.append)
    text = "\n".join(lines)
    assert result.verdict == "reproduced", text
    assert as_expected(scenario, result)
    assert "FAIL pod hungry Running" in text and "SEEN pod hungry Pending" in text
    assert any(d.startswith("pod hungry: phase Pending; not scheduled") for d in result.diagnostics), text
    assert any("FailedScheduling" in d for d in result.diagnostics), text
    recorded = json.loads((tmp_path / "record" / "result.json").read_text())
    assert recorded["verdict"] == "reproduced"
    assert (tmp_path / "record" / "logs" / "kube-scheduler.log").is_file()
    kinds = {o["kind"] for o in yaml.safe_load_all((tmp_path / "record" / "objects.yaml").read_text())}
    assert {"Pod", "ResourceClaim", "DeviceClass", "ResourceSlice"} <= kinds
    namespace = next(line.split()[1].rstrip(",") for line in lines if line.strip().startswith("namespace "))
    gone = Kube(farm_cluster.kubeconfig()).get("Namespace", namespace)
    assert gone is None or gone["metadata"].get("deletionTimestamp"), "the run leaves nothing behind"


@pytest.mark.scenario_heavy
def test_a_captured_cluster_state_replays(farm_cluster: LocalProvider, hkube: Kube, namespace: str) -> None:
    gpu_class = f"{namespace}-gpu"
    hkube.create(
        {
            "apiVersion": "resource.k8s.io/v1",
            "kind": "DeviceClass",
            "metadata": {"name": gpu_class},
            "spec": {"selectors": [{"cel": {"expression": WHOLE_GPU.replace("${driver}", "drafarm.dev")}}]},
        }
    )
    try:
        _run_and_capture(farm_cluster, hkube, namespace, gpu_class)
    finally:
        hkube.delete("DeviceClass", gpu_class)


def _run_and_capture(farm_cluster: LocalProvider, hkube: Kube, namespace: str, gpu_class: str) -> None:
    hkube.create(
        {
            "apiVersion": "resource.k8s.io/v1",
            "kind": "ResourceClaim",
            "metadata": {"name": "one-gpu", "namespace": namespace},
            "spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": gpu_class}}]}},
        }
    )
    hkube.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "user", "namespace": namespace},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "resourceClaims": [{"name": "gpu", "resourceClaimName": "one-gpu"}],
                "containers": [
                    {
                        "name": "main",
                        "image": WORKLOAD_IMAGE,
                        "command": ["sh", "-c", "sleep 3600"],
                        "resources": {"claims": [{"name": "gpu"}]},
                    }
                ],
            },
        }
    )

    def running() -> bool:
        pod = hkube.get("Pod", "user", namespace)
        return bool(pod and (pod.get("status") or {}).get("phase") == "Running")

    wait_for(running, 90, "pod user Running", lambda: str((hkube.get("Pod", "user", namespace) or {}).get("status")))
    document = yaml.safe_load(capture_scenario(farm_cluster.kubeconfig(), (namespace,), "replayed"))
    created = [s["create"] for s in document["spec"]["steps"]]
    named = [(o["kind"], o["metadata"]["name"]) for o in created]
    assert ("DeviceClass", gpu_class) in named and ("ResourceClaim", "one-gpu") in named and ("Pod", "user") in named
    assert {"pod": "user", "state": "Running"} in document["spec"]["expectations"]
    pod = next(o for o in created if o["kind"] == "Pod")
    assert pod["spec"]["containers"][0]["image"] == "${image}"
    # Replay the captured class under the run's own name (the original still exists), with the claim and pod.
    steps = []
    for obj in created:
        if obj["kind"] == "DeviceClass" and obj["metadata"]["name"] == gpu_class:
            obj["metadata"]["name"] = "${namespace}-replayed"
            steps.append({"create": obj})
        elif obj["kind"] == "ResourceClaim":
            obj["spec"]["devices"]["requests"][0]["exactly"]["deviceClassName"] = "${namespace}-replayed"
            steps.append({"create": obj})
        elif obj["kind"] == "Pod":
            steps.append({"create": obj})
    document["spec"]["steps"] = steps
    lines: list[str] = []
    result = play(parse_scenario(document, "captured"), out=lines.append)
    assert result.verdict == "not reproduced", "\n".join(lines)
