"""The plugin's API-server access through lightkube: slices and the node's version (claims: claim_api)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightkube import ApiError, Client, KubeConfig, codecs
from lightkube.resources.core_v1 import Node
from lightkube.resources.resource_v1 import ResourceSlice

from fakedevices.plugin.slice_builder import POOL_LABEL


def make_client(kubeconfig: Path | None) -> Any:
    if kubeconfig is None:
        return Client(field_manager="drafarm-plugin")
    return Client(KubeConfig.from_file(str(kubeconfig)), field_manager="drafarm-plugin")


class KubeSlices:
    def __init__(self, client: Any, driver: str) -> None:
        self.client = client
        self.driver = driver

    def list_pool(self, pool: str) -> list[dict[str, Any]]:
        found = self.client.list(ResourceSlice, labels={POOL_LABEL: pool}, fields={"spec.driver": self.driver})
        return [s.to_dict() for s in found]

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        stored: dict[str, Any] = self.client.create(codecs.from_dict(obj)).to_dict()
        return stored

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        stored: dict[str, Any] = self.client.replace(codecs.from_dict(obj)).to_dict()
        return stored

    def delete(self, name: str) -> None:
        try:
            self.client.delete(ResourceSlice, name)
        except ApiError as exc:
            if exc.status.code != 404:
                raise


def node_facts(client: Any, node: str) -> tuple[int | None, str] | None:
    """(kubelet minor version, node UID) of `node`, or None if the node is not there yet."""
    try:
        found = client.get(Node, node)
    except ApiError:
        return None
    parts = str(found.status.nodeInfo.kubeletVersion).lstrip("v").split(".")
    minor = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    return minor, str(found.metadata.uid)
