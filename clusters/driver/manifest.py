"""The farm's DRA driver as Kubernetes objects: a DaemonSet, one pod per farm node, as vendors deploy theirs.

Each pod runs `drafarm plugin run` for its node: the kube node name comes from the downward API, the
farm node it serves from the `nodes` file of the farm's ConfigMap (`<kube node>=<farm node>`). The
pods run only on nodes labelled `drafarm.dev/farm-node`, with the least RBAC a DRA node plugin needs
(ResourceSlices; reading claims, updating their status; reading nodes), and hostPath mounts of the
kubelet's plugin directories, the node's CDI directory and drafarm's state directory (emulator sockets
the CDI specs mount into containers). Host networking: network cameras listen on their own addresses
on the node.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from fakedevices.plugin.layout import (
    DYNAMIC_CDI_DIR,
    KUBELET_ROOT,
    STATE_ROOT,
    node_state_dir,
    plugins_dir,
    registration_dir,
)

NAMESPACE = "drafarm-driver"
NAME = "drafarm-driver"
FARM_NODE_LABEL = "drafarm.dev/farm-node"
CONFIG_DIR = "/etc/drafarm"

_START = (
    'FARM_NODE=$(sed -n "s/^$NODE_NAME=//p" {config}/nodes); '
    'if [ -z "$FARM_NODE" ]; then echo "node $NODE_NAME serves no farm node ({config}/nodes)" >&2; exit 1; fi; '
    'exec python3 -m harness plugin run --node "$FARM_NODE" --kube-node "$NODE_NAME" --node-map {config}/nodes '
    "--farm {config}/farm.yaml --seed {seed} --kubelet-root {kubelet} --state-dir {state} "
    '--cdi-dir {cdi} {network} --log-format text --instance "$POD_UID" --ready-file {ready}'
)
READY_FILE = "/tmp/drafarm-ready"
"""In the pod's own filesystem: present while the kubelet has this pod's plugin registered. The readiness
probe checks it, so a rolling update stops an old pod only once its successor is registered and can take
its sockets over (ready at start, the old one would stop before the new one could)."""
# Network devices: served by the node's plugin on their own addresses (any cluster), or by device hosts
# outside the cluster's nodes that the plugin controls with the key in KEY_SECRET (kind).
OWN_ADDRESS = "--camera-hosts own-address"
KEY_SECRET = f"{NAME}-network-key"
KEY_DIR = "/etc/drafarm-network-key"
REMOTE = f"--network-devices remote --network-key-file {KEY_DIR}/key"
TERMINATION_GRACE_S = 30
"""An old pod stopping beside its successor deregisters, drains and hands its sockets over (at most
`fakedevices.plugin.switch_timing.STOP_S`, about 13 s): killed before, its containers' sockets go missing
until the new pod takes them."""


def _rbac() -> list[dict[str, Any]]:
    rules = [
        {
            "apiGroups": ["resource.k8s.io"],
            "resources": ["resourceslices"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        },
        {"apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/status"], "verbs": ["update", "patch"]},
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]},
    ]
    subject = {"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": NAME, "namespace": NAMESPACE}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": NAME},
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": NAME},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME},
            "subjects": [subject],
        },
    ]


def _host_path(name: str, path: str, kind: str = "DirectoryOrCreate") -> tuple[dict[str, Any], dict[str, Any]]:
    return {"name": name, "hostPath": {"path": path, "type": kind}}, {"name": name, "mountPath": path}


def daemonset(image: str, seed: int, checksum: str = "", remote_devices: bool = False) -> dict[str, Any]:
    """The DaemonSet; `checksum` (of the farm's ConfigMap) in the pod template rolls the pods when it changes;
    with `remote_devices` the network devices are reached through device hosts (key in KEY_SECRET)."""
    mounts = [
        _host_path("plugins-registry", str(registration_dir(KUBELET_ROOT))),
        _host_path("plugins", str(plugins_dir(KUBELET_ROOT))),
        _host_path("cdi", str(DYNAMIC_CDI_DIR)),
        _host_path("state", str(STATE_ROOT)),
    ]
    volumes = [v for v, _ in mounts] + [{"name": "farm", "configMap": {"name": NAME}}]
    volume_mounts = [m for _, m in mounts] + [{"name": "farm", "mountPath": CONFIG_DIR, "readOnly": True}]
    if remote_devices:
        volumes.append({"name": "network-key", "secret": {"secretName": KEY_SECRET, "defaultMode": 0o400}})
        volume_mounts.append({"name": "network-key", "mountPath": KEY_DIR, "readOnly": True})
    state = node_state_dir("$NODE_NAME")
    network = REMOTE if remote_devices else OWN_ADDRESS
    command = _START.format(
        config=CONFIG_DIR,
        seed=seed,
        kubelet=KUBELET_ROOT,
        state=state,
        cdi=DYNAMIC_CDI_DIR,
        network=network,
        ready=READY_FILE,
    )
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": FARM_NODE_LABEL, "operator": "Exists"}]}]
            }
        }
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": {"app": NAME}},
        "spec": {
            "selector": {"matchLabels": {"app": NAME}},
            # A new pod starts beside the old one (`--instance` keeps their sockets apart) before it goes.
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": NAME}, "annotations": {"drafarm.dev/farm-checksum": checksum}},
                "spec": {
                    "serviceAccountName": NAME,
                    "hostNetwork": True,
                    "dnsPolicy": "ClusterFirstWithHostNet",
                    "affinity": affinity,
                    "terminationGracePeriodSeconds": TERMINATION_GRACE_S,
                    "containers": [
                        {
                            "name": "plugin",
                            "image": image,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["sh", "-c", command],
                            "env": [
                                {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                                {"name": "POD_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
                            ],
                            "securityContext": {"privileged": True},
                            "readinessProbe": {
                                "exec": {"command": ["sh", "-c", f"test -e {READY_FILE}"]},
                                "periodSeconds": 1,
                                "failureThreshold": 1,
                            },
                            "volumeMounts": volume_mounts,
                        }
                    ],
                    "volumes": volumes,
                },
            },
        },
    }


def objects(
    spec_path: Path, seed: int, node_map: Mapping[str, str], image: str, network_key: str | None = None
) -> list[dict[str, Any]]:
    """Everything to apply: namespace, RBAC, the farm's ConfigMap (spec + node map), the DaemonSet; with
    `network_key`, its Secret, and the plugins reach network devices through device hosts with it.

    `node_map` is {kube node: farm node}."""
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "data": {
            "farm.yaml": spec_path.read_text(),
            "nodes": "".join(f"{kube}={farm}\n" for kube, farm in sorted(node_map.items())),
        },
    }
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    facts = [config["data"], image, seed, network_key]
    checksum = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]
    secret: list[dict[str, Any]] = []
    if network_key is not None:
        meta = {"name": KEY_SECRET, "namespace": NAMESPACE}
        secret = [{"apiVersion": "v1", "kind": "Secret", "metadata": meta, "stringData": {"key": network_key}}]
    return [namespace, *_rbac(), config, *secret, daemonset(image, seed, checksum, network_key is not None)]


def render(objs: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(objs, sort_keys=False)
