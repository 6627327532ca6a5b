"""Benchmark claims in a real API server: one namespace, one-device claims allocated through the status
subresource as the scheduler writes them (device result and the node's selector)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lightkube import Client
from lightkube.codecs import from_dict
from lightkube.resources.core_v1 import Namespace
from lightkube.resources.resource_v1 import ResourceClaim
from lightkube.types import PatchType

from benchmarks.claims import ClaimRef

REQUEST = "dev"
DEVICE_CLASS = "bench-real.drafarm.dev"


@dataclass(frozen=True)
class Allocation:
    driver: str
    pool: str
    node: str


def create_namespace(client: Client) -> str:
    name = f"bench-real-{uuid.uuid4().hex[:8]}"
    client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    return name


def delete_namespace(client: Client, name: str) -> None:
    client.delete(Namespace, name)


def create_claims(client: Client, namespace: str, prefix: str, where: Allocation, devices: list[str],
                  per_device: int) -> list[list[ClaimRef]]:  # fmt: skip
    """`per_device` allocated claims on each device; per device, in order."""
    out: list[list[ClaimRef]] = []
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [where.node]}]}
    for device in devices:
        mine = []
        for index in range(per_device):
            name = f"{prefix}-{device}-{index}"
            created = client.create(
                from_dict(
                    {
                        "apiVersion": "resource.k8s.io/v1",
                        "kind": "ResourceClaim",
                        "metadata": {"name": name, "namespace": namespace},
                        "spec": {
                            "devices": {"requests": [{"name": REQUEST, "exactly": {"deviceClassName": DEVICE_CLASS}}]}
                        },
                    }
                )
            )
            result = {"request": REQUEST, "driver": where.driver, "pool": where.pool, "device": device}
            status = {"allocation": {"devices": {"results": [result]}, "nodeSelector": {"nodeSelectorTerms": [term]}}}
            client.patch(ResourceClaim.Status, name, {"status": status}, namespace=namespace,
                         patch_type=PatchType.MERGE)  # fmt: skip
            assert created.metadata is not None
            mine.append(ClaimRef(namespace, name, str(created.metadata.uid)))
        out.append(mine)
    return out
