"""Reading an allocated ResourceClaim (API JSON) into what this driver must prepare on this node."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class ClaimError(Exception):
    """A claim this plugin cannot prepare; the message is shown to the user in a kubelet event."""


def base_request(request: str) -> str:
    """`main` for a subrequest `main/sub` (what the kubelet matches container claim references on)."""
    return request.split("/", 1)[0]


@dataclass(frozen=True)
class AllocationResult:
    request: str
    pool: str
    device: str
    share_id: str | None
    consumed_capacity: Mapping[str, str]
    admin_access: bool = False


@dataclass(frozen=True)
class OpaqueConfig:
    source: str
    requests: tuple[str, ...]
    parameters: Any
    index: int

    def applies_to(self, request: str) -> bool:
        return not self.requests or request in self.requests or base_request(request) in self.requests


@dataclass(frozen=True)
class AllocatedClaim:
    namespace: str
    name: str
    uid: str
    results: tuple[AllocationResult, ...]
    configs: tuple[OpaqueConfig, ...]

    def config_for(self, request: str, config_kind: str) -> OpaqueConfig | None:
        """The winning config of one kind for a request: claim beats class, later beats earlier."""
        chosen: OpaqueConfig | None = None
        for source in ("FromClass", "FromClaim"):
            for config in self.configs:
                kind = config.parameters.get("kind") if isinstance(config.parameters, Mapping) else None
                if config.source == source and kind == config_kind and config.applies_to(request):
                    chosen = config
        return chosen

    def unknown_configs(self, known_kinds: Sequence[str]) -> list[OpaqueConfig]:
        out = []
        for config in self.configs:
            kind = config.parameters.get("kind") if isinstance(config.parameters, Mapping) else None
            if kind not in known_kinds:
                out.append(config)
        return out


def read_allocated_claim(obj: Mapping[str, Any], driver: str, pools: Sequence[str], uid: str) -> AllocatedClaim:
    """The parts of `obj` for `driver` in `pools`, after checking the claim is the one asked for."""
    meta = obj.get("metadata") or {}
    namespace, name = meta.get("namespace", ""), meta.get("name", "")
    where = f"claim {namespace}/{name}"
    if meta.get("uid") != uid:
        raise ClaimError(
            f"{where}: the kubelet asked for UID {uid} but the API server has UID {meta.get('uid')}; "
            "the claim was deleted and re-created: delete the pod so it gets the new claim"
        )
    allocation = (obj.get("status") or {}).get("allocation")
    if not allocation:
        raise ClaimError(f"{where} is not allocated; the scheduler must allocate it before the kubelet prepares it")
    devices = allocation.get("devices") or {}
    results = tuple(
        AllocationResult(
            request=r.get("request", ""),
            pool=r.get("pool", ""),
            device=r.get("device", ""),
            share_id=r.get("shareID"),
            consumed_capacity=dict(r.get("consumedCapacity") or {}),
            admin_access=bool(r.get("adminAccess")),
        )
        for r in devices.get("results") or []
        if r.get("driver") == driver and r.get("pool") in pools
    )
    if not results:
        drivers = sorted({str(r.get("driver")) for r in devices.get("results") or []})
        raise ClaimError(
            f"{where}: none of its devices is allocated from {driver} on this node (its devices come from "
            f"{', '.join(d[:63] for d in drivers[:5]) or 'no driver'}); the kubelet asked the wrong plugin or "
            "node: delete the pod so the claim is allocated anew"
        )
    configs = tuple(
        OpaqueConfig(
            source=c.get("source", "FromClaim"),
            requests=tuple(c.get("requests") or ()),
            parameters=(c.get("opaque") or {}).get("parameters"),
            index=i,
        )
        for i, c in enumerate(devices.get("config") or [])
        if (c.get("opaque") or {}).get("driver") == driver
    )
    return AllocatedClaim(namespace, name, uid, results, configs)
