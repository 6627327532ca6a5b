"""The Kubernetes objects a scenario may create, delete and capture, reached as plain dicts through
lightkube generic resources (any served apiVersion: DeviceTaintRule is v1alpha3 before 1.36).

Strings in a scenario's objects may hold `${variable}`s, filled in from the cluster it runs on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lightkube import ApiError, Client
from lightkube.core.exceptions import LoadResourceError
from lightkube.core.resource_registry import resource_registry
from lightkube.generic_resource import create_global_resource, create_namespaced_resource

VARIABLES = ("namespace", "node", "pool", "driver", "image", "scenario")
_VARIABLE = re.compile(r"\$\{([a-z]+)\}")


@dataclass(frozen=True)
class KindInfo:
    plural: str
    namespaced: bool
    api_versions: tuple[str, ...]


_RESOURCE = ("resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1beta1")
KINDS: dict[str, KindInfo] = {
    "DeviceClass": KindInfo("deviceclasses", False, _RESOURCE),
    "ResourceSlice": KindInfo("resourceslices", False, _RESOURCE),
    "DeviceTaintRule": KindInfo("devicetaintrules", False, ("resource.k8s.io/v1beta2", "resource.k8s.io/v1alpha3")),
    "ResourceClaim": KindInfo("resourceclaims", True, _RESOURCE),
    "ResourceClaimTemplate": KindInfo("resourceclaimtemplates", True, _RESOURCE),
    "Pod": KindInfo("pods", True, ("v1",)),
    "Node": KindInfo("nodes", False, ("v1",)),
    "ConfigMap": KindInfo("configmaps", True, ("v1",)),
}
"""Kinds in the order a cleanup deletes them (pods first: they hold the claims)."""
DELETE_ORDER = ("Pod", "ResourceClaim", "ResourceClaimTemplate", "DeviceTaintRule", "ResourceSlice", "DeviceClass")


def fill(value: Any, variables: dict[str, str]) -> Any:
    """`value` with every `${name}` in its strings replaced (names were checked when the file was read)."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {k: fill(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, variables) for v in value]
    return value


def _resource(api_version: str, kind: str) -> Any:
    """lightkube's model of the kind (its registry is process-wide: the harness uses the same classes),
    or a generic resource for a version lightkube has no model of."""
    try:
        return resource_registry.load(api_version, kind)
    except (LoadResourceError, ImportError):
        pass
    group, _, version = api_version.rpartition("/")
    info = KINDS[kind]
    make = create_namespaced_resource if info.namespaced else create_global_resource
    return make(group, version, kind, info.plural)


def preferred_version(kind: str) -> str:
    return KINDS[kind].api_versions[0]


class Objects:
    """Create, read and delete scenario objects; namespaced ones default to the scenario's namespace."""

    def __init__(self, client: Client, namespace: str) -> None:
        self.client: Any = client
        self.namespace = namespace

    def _ns(self, kind: str, namespace: str | None) -> str | None:
        return (namespace or self.namespace) if KINDS[kind].namespaced else None

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        kind = obj["kind"]
        res = _resource(obj["apiVersion"], kind)
        body = dict(obj)
        meta = dict(body.get("metadata") or {})
        if KINDS[kind].namespaced:
            meta["namespace"] = meta.get("namespace") or self.namespace
        body["metadata"] = meta
        created = self.client.create(res.from_dict(body), namespace=meta.get("namespace"))
        return dict(created.to_dict())

    def get(self, kind: str, name: str, namespace: str | None = None, api_version: str = "") -> dict[str, Any] | None:
        res = _resource(api_version or preferred_version(kind), kind)
        try:
            return dict(self.client.get(res, name, namespace=self._ns(kind, namespace)).to_dict())
        except ApiError as exc:
            if exc.status.code == 404:
                return None
            raise

    def list(self, kind: str, namespace: str | None = None, api_version: str = "") -> list[dict[str, Any]]:
        res = _resource(api_version or preferred_version(kind), kind)
        ns = (namespace or self.namespace) if KINDS[kind].namespaced else None
        return [dict(o.to_dict()) for o in self.client.list(res, namespace=ns)]

    def delete(
        self, kind: str, name: str, namespace: str | None = None, api_version: str = "", grace: int | None = None
    ) -> None:
        res = _resource(api_version or preferred_version(kind), kind)
        if grace is None and kind == "Pod":
            grace = 1
        try:
            self.client.delete(res, name, namespace=self._ns(kind, namespace), grace_period=grace)
        except ApiError as exc:
            if exc.status.code != 404:
                raise
