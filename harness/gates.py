"""Which DRA feature gates a cluster has on: known for our own clusters, read from the API server's
metrics otherwise, and overridable with `--drafarm-gates NAME=true,...`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.kube import Kube

# GA gates are locked on and no longer reported; they count as on from the minor they went GA.
GA_FROM_MINOR = {
    "DRAPrioritizedList": 36,
    "DRAAdminAccess": 36,
    "DRAResourceClaimDeviceStatus": 37,
    "DRAExtendedResource": 37,
}


def parse_override(text: str) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        if value.lower() not in ("true", "false") or not name:
            raise ValueError(f"--drafarm-gates item {item!r}: expected NAME=true or NAME=false")
        out[name] = value.lower() == "true"
    return out


def from_metrics(text: str) -> dict[str, bool]:
    """Parse `kubernetes_feature_enabled{name="X",stage="ALPHA"} 1` lines."""
    gates: dict[str, bool] = {}
    for line in text.splitlines():
        if not line.startswith("kubernetes_feature_enabled{"):
            continue
        labels, _, value = line.rpartition("} ")
        for part in labels.split(","):
            key, _, quoted = part.partition("=")
            if key.endswith("name"):
                gates[quoted.strip('"')] = value.strip() == "1"
    return gates


def read_apiserver_gates(kube: Kube) -> dict[str, bool] | None:
    """The API server's gates from /metrics, or None when they cannot be read."""
    code, body = kube.raw_get("/metrics")
    return from_metrics(body) if code == 200 else None


def gate_on(gates: dict[str, bool] | None, name: str, minor: int | None) -> bool | None:
    if minor is not None and name in GA_FROM_MINOR and minor >= GA_FROM_MINOR[name]:
        return True
    if gates is None:
        return None
    return gates.get(name)
