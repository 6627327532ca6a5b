"""The harness's Kubernetes access: plain JSON dicts in and out, through lightkube."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lightkube import ApiError, Client, KubeConfig
from lightkube.codecs import from_dict
from lightkube.config import client_adapter
from lightkube.core.resource import Resource
from lightkube.resources.apps_v1 import ReplicaSet
from lightkube.resources.core_v1 import Event, Namespace, Node, Pod, ServiceAccount
from lightkube.resources.resource_v1 import (
    DeviceClass,
    ResourceClaim,
    ResourceClaimTemplate,
    ResourceSlice,
)

CLUSTER_SCOPED = ("Namespace", "DeviceClass", "ResourceSlice", "Node")
KINDS: dict[str, type[Resource]] = {
    "Pod": Pod,
    "Namespace": Namespace,
    "DeviceClass": DeviceClass,
    "ResourceClaim": ResourceClaim,
    "ResourceClaimTemplate": ResourceClaimTemplate,
    "ResourceSlice": ResourceSlice,
    "Event": Event,
    "Node": Node,
    "ServiceAccount": ServiceAccount,
    "ReplicaSet": ReplicaSet,
}


class Kube:
    def __init__(self, kubeconfig: Path, field_manager: str = "drafarm-harness") -> None:
        self.kubeconfig = kubeconfig
        self.client: Any = Client(KubeConfig.from_file(str(kubeconfig)), field_manager=field_manager)

    def raw_get(self, path: str) -> tuple[int, str]:
        """GET a non-resource path (`/version`, `/metrics`): status code and body; (0, reason) on failure."""
        try:
            # lightkube's Client only requests resources; its config module builds an HTTP client with the
            # same server, TLS and credentials for the rest.
            with client_adapter.Client(self.client.config, client_adapter.ConnectionParams()) as http:
                response = http.get(path)
        except Exception as exc:
            return 0, str(exc)
        return int(response.status_code), str(response.text)

    def version(self) -> dict[str, Any]:
        """The API server's /version document ({} when it cannot be read)."""
        import json

        code, body = self.raw_get("/version")
        try:
            data = json.loads(body) if code == 200 else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self.client.create(from_dict(obj)).to_dict()
        return created

    def ensure(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create `obj` unless an object of that name exists (cluster-scoped fixtures shared by workers)."""
        try:
            return self.create(obj)
        except ApiError as exc:
            if exc.status.code != 409:
                raise
        meta = obj["metadata"]
        found = self.get(obj["kind"], meta["name"], meta.get("namespace"))
        assert found is not None
        return found

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.client.get(KINDS[kind], name, namespace=namespace).to_dict()
        except ApiError as exc:
            if exc.status.code == 404:
                return None
            raise
        return found

    def items(
        self,
        kind: str,
        namespace: str | None = None,
        *,
        labels: dict[str, str] | None = None,
        fields: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        items: Iterable[Any] = self.client.list(
            KINDS[kind],
            namespace=namespace or ("*" if kind not in CLUSTER_SCOPED else None),
            labels=labels,
            fields=fields,
        )
        return [i.to_dict() for i in items]

    def delete(self, kind: str, name: str, namespace: str | None = None, *, grace: int | None = None) -> None:
        try:
            self.client.delete(KINDS[kind], name, namespace=namespace, grace_period=grace)
        except ApiError as exc:
            if exc.status.code != 404:
                raise

    def patch_status(self, kind: str, name: str, namespace: str | None, patch: dict[str, Any]) -> None:
        status_kind: Any = KINDS[kind].Status  # type: ignore[attr-defined]
        self.client.patch(status_kind, name, patch, namespace=namespace)

    def events(self, namespace: str, involved: str | None = None) -> list[dict[str, Any]]:
        fields = {"involvedObject.name": involved} if involved else None
        events = self.items("Event", namespace, fields=fields)
        return sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))

    def logs(self, pod: str, namespace: str, container: str | None = None) -> str:
        try:
            return "\n".join(self.client.log(pod, namespace=namespace, container=container))
        except ApiError as exc:
            return f"<no logs: {exc.status.message}>"
