"""Fault control of a virtual node: no plugin runs there, so a device's health is what its published slice
says. `set-health unhealthy` puts a NoSchedule device taint on the device (new claims avoid it, pods
holding it keep it), `healthy` takes it off; each change bumps the pool's generation. Every other
fault needs a plugin and is refused with the reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clusters.provider import ClusterError
from clusters.virtual.api import SLICES, JsonApi
from fakedevices.plugin.control_client import ControlError
from fakedevices.plugin.slice_builder import POOL_LABEL

TAINT_KEY = "drafarm.dev/unhealthy"
HEALTHS = ("healthy", "unhealthy", "unknown")


@dataclass(frozen=True)
class VirtualNodeControl:
    kubeconfig: Path
    node: str
    driver: str

    def available(self) -> bool:
        try:
            return bool(self._slices())
        except (ClusterError, OSError):
            return False

    def call(self, request: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        del timeout
        op = request.get("op")
        try:
            if op == "status":
                return {"ok": True, "node": self.node, "virtual": True, "health": self._health()}
            if op == "set-health":
                return {"ok": True, "changed": self._set_health(str(request.get("device", "")),
                                                                str(request.get("health", "")),
                                                                str(request.get("reason", "")))}  # fmt: skip
        except ClusterError as exc:
            raise ControlError(str(exc)) from None
        raise ControlError(
            f"{op!r}: {self.node} is a virtual node (kwok): no plugin runs there, so only `status` and "
            "`set-health` (a device taint in its slice) apply"
        )

    def _slices(self) -> list[dict[str, Any]]:
        api = JsonApi(self.kubeconfig)
        try:
            found = api.items(SLICES, f"{POOL_LABEL}={self.node}")
        finally:
            api.close()
        return [s for s in found if s["spec"].get("driver") == self.driver]

    def _health(self) -> dict[str, str]:
        return {
            d["name"]: "unhealthy" if any(t.get("key") == TAINT_KEY for t in d.get("taints") or ()) else "healthy"
            for s in self._slices()
            for d in s["spec"].get("devices") or ()
        }

    def _set_health(self, device: str, health: str, reason: str) -> list[str]:
        if health not in HEALTHS:
            raise ClusterError(f"health {health!r}: choose one of {', '.join(HEALTHS)}")
        slices = self._slices()
        if not any(d["name"] == device for s in slices for d in s["spec"].get("devices") or ()):
            known = sorted(d["name"] for s in slices for d in s["spec"].get("devices") or ())
            raise ClusterError(f"device {device!r} is not on virtual node {self.node} (devices: {', '.join(known)})")
        taint = {"key": TAINT_KEY, "value": _label_value(reason or "unhealthy"), "effect": "NoSchedule"}
        generation = max(int(s["spec"]["pool"]["generation"]) for s in slices) + 1
        api = JsonApi(self.kubeconfig)
        try:
            for obj in slices:
                for entry in obj["spec"].get("devices") or ():
                    if entry["name"] == device:
                        kept = [t for t in entry.get("taints") or () if t.get("key") != TAINT_KEY]
                        entry["taints"] = kept + ([taint] if health == "unhealthy" else [])
                        if not entry["taints"]:
                            del entry["taints"]
                obj["spec"]["pool"]["generation"] = generation
                api.replace(f"{SLICES}/{obj['metadata']['name']}", obj)
        finally:
            api.close()
        return [device]


def _label_value(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-_.")[:63].strip("-_.")
    return cleaned or "unhealthy"
