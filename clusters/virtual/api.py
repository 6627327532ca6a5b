"""The API server as plain JSON over the kubeconfig's connection settings: creating hundreds of Nodes and
ResourceSlices needs no models, and one HTTP client is shared by the creating threads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lightkube import KubeConfig
from lightkube.config.client_adapter import Client as http_client
from lightkube.config.client_adapter import ConnectionParams

from clusters.provider import ClusterError

NODES = "/api/v1/nodes"
SLICES = "/apis/resource.k8s.io/v1/resourceslices"
TIMEOUT_S = 30.0
DELETE_COLLECTION_TIMEOUT_S = 600.0
"""The API server deletes a collection before it answers: 1500 partitioned slices take minutes here."""


class JsonApi:
    def __init__(self, kubeconfig: Path) -> None:
        config = KubeConfig.from_file(str(kubeconfig)).get()
        if config is None:
            raise ClusterError(f"kubeconfig {kubeconfig} has no current context; set one or name the cluster's own")
        self._http = http_client(config, ConnectionParams())

    def create(self, collection: str, obj: dict[str, Any]) -> dict[str, Any]:
        response = self._http.post(collection, content=json.dumps(obj), timeout=TIMEOUT_S,
                                   headers={"Content-Type": "application/json"})  # fmt: skip
        if response.status_code == 409:
            return self.get(f"{collection}/{obj['metadata']['name']}")
        return _checked(response, f"creating {obj.get('kind')} {obj['metadata']['name']}")

    def replace(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        response = self._http.put(path, content=json.dumps(obj), timeout=TIMEOUT_S,
                                  headers={"Content-Type": "application/json"})  # fmt: skip
        return _checked(response, f"replacing {path}")

    def get(self, path: str) -> dict[str, Any]:
        return _checked(self._http.get(path, timeout=TIMEOUT_S), f"reading {path}")

    def items(self, collection: str, selector: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, str | int] = {"labelSelector": selector, "limit": 500}
        while True:
            page = _checked(self._http.get(collection, params=params, timeout=TIMEOUT_S), f"listing {collection}")
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            params["continue"] = token

    def watch(self, collection: str, seconds: int = 300) -> Iterator[tuple[str, dict[str, Any]]]:
        """Events (type, object) of `collection` from now on, until the server ends the watch."""
        params: dict[str, str | int] = {"watch": "true", "timeoutSeconds": seconds, "allowWatchBookmarks": "false"}
        with self._http.stream("GET", collection, params=params, timeout=seconds + 30.0) as response:
            if response.status_code != 200:
                response.read()
                _checked(response, f"watching {collection}")
            for line in response.iter_lines():
                if line:
                    event = json.loads(line)
                    yield str(event.get("type", "")), event.get("object") or {}

    def delete(self, path: str, grace_seconds: int | None = None) -> None:
        params = {"gracePeriodSeconds": grace_seconds} if grace_seconds is not None else {}
        response = self._http.delete(path, params=params, timeout=TIMEOUT_S)
        if response.status_code != 404:
            _checked(response, f"deleting {path}")

    def delete_all(self, collection: str, selector: str) -> None:
        response = self._http.delete(
            collection, params={"labelSelector": selector}, timeout=DELETE_COLLECTION_TIMEOUT_S
        )
        if response.status_code != 404:
            _checked(response, f"deleting {collection} with {selector}")

    def close(self) -> None:
        self._http.close()


def _checked(response: Any, what: str) -> dict[str, Any]:
    if response.status_code >= 300:
        try:
            message = str(json.loads(response.content).get("message", ""))
        except (ValueError, AttributeError):
            message = response.text[:200]
        raise ClusterError(f"{what}: the API server answered HTTP {response.status_code} ({message[:300]})")
    result: dict[str, Any] = json.loads(response.content)
    return result
