"""ResourceClaims in a real API server, allocated the way the scheduler does it (the status subresource),
and a kubeconfig for a service account that may list and watch claims but not GET one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from lightkube import Client
from lightkube.codecs import from_dict
from lightkube.core.exceptions import ApiError
from lightkube.models.authentication_v1 import TokenRequestSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ServiceAccount
from lightkube.resources.rbac_authorization_v1 import ClusterRole, ClusterRoleBinding
from lightkube.resources.resource_v1 import ResourceClaim
from lightkube.types import PatchType

from tests.plugin.kit import DRIVER, NODE

DEVICE_CLASS = "e2e-cache.drafarm.dev"


def create_allocated(kube: Client, namespace: str, name: str, device: str, request: str = "gpu") -> str:
    """A claim for one device, allocated `device` of this node's pool; its UID."""
    created = kube.create(
        from_dict(
            {
                "apiVersion": "resource.k8s.io/v1",
                "kind": "ResourceClaim",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"devices": {"requests": [{"name": request, "exactly": {"deviceClassName": DEVICE_CLASS}}]}},
            }
        )
    )
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [NODE]}]}
    status = {
        "allocation": {
            "devices": {"results": [{"request": request, "driver": DRIVER, "pool": NODE, "device": device}]},
            "nodeSelector": {"nodeSelectorTerms": [term]},
        }
    }
    kube.patch(ResourceClaim.Status, name, {"status": status}, namespace=namespace, patch_type=PatchType.MERGE)
    return str(created.metadata.uid)


def delete_claim(kube: Client, namespace: str, name: str) -> None:
    kube.delete(ResourceClaim, name, namespace=namespace)


def claim_gone(kube: Client, namespace: str, name: str) -> bool:
    try:
        kube.get(ResourceClaim, name, namespace=namespace)
    except ApiError as exc:
        return exc.status.code == 404
    return False


def watch_only_kubeconfig(kube: Client, admin_kubeconfig: Path, namespace: str, out: Path) -> list[tuple[Any, str]]:
    """A kubeconfig at `out` for service account `watch-only` in `namespace`, allowed list and watch on
    resourceclaims and nothing else; returns the cluster-scoped RBAC objects to delete afterwards."""
    kube.create(from_dict({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "watch-only"}}),
                namespace=namespace)  # fmt: skip
    role = f"drafarm-e2e-watch-only-{namespace}"
    kube.create(
        from_dict(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": role},
                "rules": [
                    {"apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims"], "verbs": ["list", "watch"]}
                ],
            }
        )
    )
    kube.create(
        from_dict(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": role},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "ServiceAccount", "name": "watch-only", "namespace": namespace}],
            }
        )
    )
    token = kube.create(
        ServiceAccount.Token(
            metadata=ObjectMeta(name="watch-only", namespace=namespace),
            spec=TokenRequestSpec(audiences=[], expirationSeconds=3600),
        ),
        name="watch-only",
        namespace=namespace,
    )
    admin = yaml.safe_load(admin_kubeconfig.read_text())
    cluster = dict(admin["clusters"][0]["cluster"])
    authority = cluster.get("certificate-authority")
    if authority and not Path(authority).is_absolute():
        cluster["certificate-authority"] = str(admin_kubeconfig.parent / authority)
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "watch-only",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "watch-only", "user": {"token": token.status.token}}],
        "contexts": [{"name": "watch-only", "context": {"cluster": "c", "user": "watch-only"}}],
    }
    out.write_text(yaml.safe_dump(document))
    return [(ClusterRoleBinding, role), (ClusterRole, role)]
