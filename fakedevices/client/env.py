"""Env var names the in-container client reads; the CDI edits set them.

    DRAFARM_<KIND>_<KEY>          one device of a kind
    DRAFARM_<KIND>_<ID>_<KEY>     several: <ID> is any name made of A-Z, 0-9 and _ (e.g. 0, 1, GPU_3)

KIND is the device's kind in capitals: GPU, FPGA, CAMERA, or any other kind the plugin serves (a kind's
name is a lower-case letter, then lower-case letters and digits; ``KIND_NAME``, which the kind registry
enforces). So the client needs no list of kinds: it recognises every kind by that pattern, and reaches a
device by the keys it was given. KEY is SOCKET (a device served on a unix socket, e.g. GPU and FPGA: the
session's socket path in the container), ADDR and TOKEN (a device served over the network, e.g. a
camera: host:port and session token), DEVICE (the device name, optional) and SESSION (the session id,
optional). Stdlib only: this module runs inside containers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

KIND_NAME = re.compile(r"[a-z][a-z0-9]{0,19}")
SOCKET = "SOCKET"
ADDR = "ADDR"
TOKEN = "TOKEN"
DEVICE = "DEVICE"
SESSION = "SESSION"
KEYS = (SOCKET, ADDR, TOKEN, DEVICE, SESSION)

_VAR = re.compile(rf"DRAFARM_({KIND_NAME.pattern.upper()})(?:_([A-Z0-9_]+?))?_({'|'.join(KEYS)})")


_NOT_ID = re.compile(r"[^A-Z0-9]")


def normalize_id(device_id: str) -> str:
    """``gpu-3`` -> ``GPU_3``: the form a device id takes inside an env var name."""
    return _NOT_ID.sub("_", device_id.upper())


@functools.lru_cache(maxsize=4096)
def var_name(kind: str, key: str, device_id: str | None = None) -> str:
    """``var_name("gpu", "SOCKET", "0")`` -> ``DRAFARM_GPU_0_SOCKET``."""
    if not KIND_NAME.fullmatch(kind):
        raise ValueError(f"kind {kind!r} is not a kind name (a lower-case letter, then lower-case letters or digits)")
    if key not in KEYS:
        raise ValueError(f"key {key!r} is not one of {', '.join(KEYS)}")
    middle = "" if device_id is None else "_" + normalize_id(device_id)
    return f"DRAFARM_{kind.upper()}{middle}_{key}"


@dataclass(frozen=True)
class DeviceRef:
    """One device the container was given, as found in its environment."""

    kind: str
    id: str | None
    socket: str | None = None
    addr: str | None = None
    token: str | None = None
    device: str | None = None
    session: str | None = None

    @property
    def label(self) -> str:
        return self.kind if self.id is None else f"{self.kind}[{self.id}]"


def _sort_key(ref: DeviceRef) -> tuple[str, int, int, str]:
    if ref.id is None:
        return (ref.kind, 0, 0, "")
    if ref.id.isdigit():
        return (ref.kind, 1, int(ref.id), ref.id)
    return (ref.kind, 2, 0, ref.id)


def kinds_in(environ: Mapping[str, str]) -> list[str]:
    """The kinds of the devices named in ``environ``, sorted."""
    return sorted({ref.kind for ref in discover(environ)})


def discover(environ: Mapping[str, str]) -> list[DeviceRef]:
    """Every device named in ``environ``, unindexed first, then by numeric id, then by name."""
    found: dict[tuple[str, str | None], dict[str, str]] = {}
    for name, value in environ.items():
        match = _VAR.fullmatch(name)
        if match is None or not value:
            continue
        kind, ident, key = match.group(1).lower(), match.group(2), match.group(3)
        found.setdefault((kind, ident), {})[key.lower()] = value
    refs = [DeviceRef(kind=kind, id=ident, **values) for (kind, ident), values in found.items()]
    return sorted(refs, key=_sort_key)
