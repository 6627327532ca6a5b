"""The farm's driver as Kubernetes objects: what `drafarm farm manifest` prints and kind applies."""

from __future__ import annotations

from typing import Any

import yaml
from click.testing import CliRunner

from clusters.driver import manifest
from fakedevices.farm import open_farm
from fakedevices.plugin.switch_timing import STOP_S
from harness.cli import cli


def _by_kind(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objs}


def test_the_daemonset_serves_its_own_node_with_the_least_rbac() -> None:
    source = open_farm("mixed")
    objs = _by_kind(manifest.objects(source.path, 7, {"kind-worker": "gpu-large-0"}, "img:1"))
    assert set(objs) == {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet"}
    pod = objs["DaemonSet"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["env"] == [
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "POD_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
    ]
    mounted = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/var/lib/kubelet/plugins_registry", "/var/lib/kubelet/plugins", "/var/run/cdi", "/run/drafarm"} <= mounted
    assert "--seed 7" in container["command"][2] and '--kube-node "$NODE_NAME"' in container["command"][2]
    term = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
    assert term["matchExpressions"] == [{"key": manifest.FARM_NODE_LABEL, "operator": "Exists"}]
    rules = {(tuple(r["apiGroups"]), tuple(r["resources"])): set(r["verbs"]) for r in objs["ClusterRole"]["rules"]}
    assert rules[(("resource.k8s.io",), ("resourceclaims",))] == {"get", "list", "watch"}
    assert rules[(("",), ("nodes",))] == {"get"}
    assert objs["ConfigMap"]["data"]["nodes"] == "kind-worker=gpu-large-0\n"
    assert objs["ConfigMap"]["data"]["farm.yaml"] == source.path.read_text()


def test_a_new_driver_pod_starts_beside_the_old_one_as_its_own_instance() -> None:
    """A rolling update surges: the new pod registers its own sockets (`--instance` is its pod UID) while
    the old one still serves, so no prepare meets a node without a plugin."""
    objs = _by_kind(manifest.objects(open_farm("small").path, 7, {"kind-worker": "drafarm-worker-0"}, "img:1"))
    strategy = objs["DaemonSet"]["spec"]["updateStrategy"]
    assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    (container,) = objs["DaemonSet"]["spec"]["template"]["spec"]["containers"]
    assert '--instance "$POD_UID"' in container["command"][2]
    probe = container["readinessProbe"]["exec"]["command"]
    assert f"--ready-file {manifest.READY_FILE}" in container["command"][2] and manifest.READY_FILE in probe[-1], (
        "a new pod must be ready only once the kubelet registered it, or the old one stops before it can hand over"
    )
    grace = objs["DaemonSet"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= 2 * STOP_S, "the old pod may be killed before it has drained and handed its sockets over"


def test_a_changed_farm_rolls_the_pods() -> None:
    source = open_farm("mixed")

    def checksum(mapping: dict[str, str]) -> str:
        ds = _by_kind(manifest.objects(source.path, 7, mapping, "img:1"))["DaemonSet"]
        return str(ds["spec"]["template"]["metadata"]["annotations"]["drafarm.dev/farm-checksum"])

    assert checksum({"a": "gpu-large-0"}) == checksum({"a": "gpu-large-0"})
    assert checksum({"a": "gpu-large-0"}) != checksum({"a": "gpu-large-1"})


def test_farm_manifest_prints_applyable_yaml_and_names_bad_bindings() -> None:
    result = CliRunner().invoke(cli, ["farm", "manifest", "mixed", "--node", "n1=fpga-0"])
    assert result.exit_code == 0, result.output
    docs = list(yaml.safe_load_all(result.output))
    assert _by_kind(docs)["ConfigMap"]["data"]["nodes"] == "n1=fpga-0\n"
    bad = CliRunner().invoke(cli, ["farm", "manifest", "mixed", "--node", "n1=nope"])
    assert bad.exit_code != 0 and "fpga-0" in bad.output
