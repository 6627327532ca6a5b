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
from fakedevices.emulator.errors import RequestError
from fakedevices.plugin.control_client import ControlError
from fakedevices.plugin.control_protocol import Message, PluginStatus, SetHealth, Status, parse_request
from fakedevices.plugin.slice_builder import POOL_LABEL

TAINT_KEY = "drafarm.dev/unhealthy"


@dataclass(frozen=True)
class VirtualNodeControl:
    """A control transport that answers `status` and `set-health` itself, from the node's slices."""

    kubeconfig: Path
    node: str
    driver: str

    def call(self, message: Message, timeout: float) -> Message:
        del timeout
        try:
            request = parse_request(message)
            if isinstance(request, Status):
                status = PluginStatus(self.node, self._health(), virtual=True)
                return {"ok": True, **request.answer.write(status)}
            if isinstance(request, SetHealth):
                changed = self._set_health(request.device, request.health, request.reason)
                return {"ok": True, **request.answer.write(changed)}
        except (ClusterError, RequestError) as exc:
            raise ControlError(str(exc)) from None
        raise ControlError(
            f"{request.OP!r}: {self.node} is a virtual node (kwok): no plugin runs there, so only `status` and "
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
