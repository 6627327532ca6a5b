"""A scenario whose bug needs more nodes than the machine has: its inline farm adds a virtual node group, so
the local cluster gets those nodes (kwok keeps them Ready, drafarm publishes their GPUs) and the
scenario's pods spread over them. Heavy (`make scenarios`): the scenario's farm replaces the run's, which
needs the cluster to itself."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from clusters.local.provider import LocalProvider
from fakedevices.farm import open_farm
from fakedevices.farmspec.loader import resolve_spec_path
from harness.scenario.play import play
from harness.scenario.schema import parse_scenario

pytestmark = [pytest.mark.e2e, pytest.mark.scenario_heavy]
VIRTUAL = 3


def _pod(name: str) -> dict[str, Any]:
    return {"create": {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {
            "nodeSelector": {"drafarm.dev/group": "sim"},
            "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
            "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "one-gpu"}],
            "containers": [{"name": "main", "image": "${image}", "resources": {"claims": [{"name": "gpu"}]}}],
        },
    }}  # fmt: skip


def _scenario() -> dict[str, Any]:
    farm: dict[str, Any] = copy.deepcopy(yaml.safe_load(resolve_spec_path("small").read_text()))
    farm["metadata"]["name"] = "small-and-virtual"
    farm["spec"]["nodeGroups"].append({"name": "sim", "namePattern": "sim-{index}", "count": VIRTUAL, "virtual": True,
                                       "devices": {"gpu": {"count": 1}}})  # fmt: skip
    gpu = 'device.driver == "${driver}" && device.attributes["${driver}"].type == "gpu"'
    return {
        "apiVersion": "drafarm.dev/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "virtual-spread", "description": "one GPU per virtual node: pods spread over them"},
        "spec": {
            "farm": farm,
            "nodes": 1 + VIRTUAL,
            "steps": [
                {"create": {"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass",
                            "metadata": {"name": "${namespace}-gpu"},
                            "spec": {"selectors": [{"cel": {"expression": gpu}}]}}},
                {"create": {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
                            "metadata": {"name": "one-gpu"},
                            "spec": {"spec": {"devices": {"requests": [
                                {"name": "gpu", "exactly": {"deviceClassName": "${namespace}-gpu"}}]}}}}},
                *(_pod(f"p{i}") for i in range(VIRTUAL)),
            ],
            "expectations": [{"pod": f"p{i}", "state": "Running", "within": 60} for i in range(VIRTUAL)],
        },
    }  # fmt: skip


def test_a_scenario_runs_on_its_farms_virtual_nodes(local_cluster: LocalProvider) -> None:
    lines: list[str] = []
    try:
        result = play(parse_scenario(_scenario(), "virtual-spread"), out=lines.append)
    finally:
        local_cluster.deploy_farm(open_farm("small"))
    text = "\n".join(lines)
    assert result.verdict == "not reproduced" and all(e.ok for e in result.expectations), text
    assert not result.reason, text
