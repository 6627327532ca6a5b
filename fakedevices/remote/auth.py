"""The shared pool key that authenticates host-control requests.

Every request carries `ts` (unix seconds) and `auth`, the hex HMAC-SHA256 of the request without `auth`
(compact JSON, keys sorted) under the key. The host refuses a request whose `auth` does not match, or whose
`ts` is more than `MAX_SKEW_S` away from its clock (a captured request cannot be replayed later). The key
itself never crosses the network.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
from pathlib import Path

from fakedevices.emulator.errors import RequestError
from fakedevices.emulator.protocol import Message

KEY_ENV = "DRAFARM_NETWORK_KEY"
"""The key itself, for the device host (`--key-file` wins when both are given)."""
MIN_KEY_BYTES = 16
MAX_KEY_BYTES = 4096
MAX_SKEW_S = 300.0


class NetworkKeyError(ValueError):
    """A key that cannot be used; the message names where it came from and the fix."""


def read_key_file(path: Path) -> bytes:
    """The key in `path` (surrounding whitespace, such as a final newline, is not part of it)."""
    try:
        data = path.read_bytes()[: MAX_KEY_BYTES + 1]
    except OSError as exc:
        raise NetworkKeyError(f"cannot read the network key file {path}: {exc.strerror or exc}") from exc
    return checked_key(data.strip(), f"network key file {path}")


def key_from_env() -> bytes | None:
    """The key in `DRAFARM_NETWORK_KEY`, or None when it is not set."""
    value = os.environ.get(KEY_ENV)
    if value is None:
        return None
    return checked_key(value.strip().encode(), f"${KEY_ENV}")


def checked_key(key: bytes, where: str) -> bytes:
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise NetworkKeyError(
            f"{where} holds {len(key)} bytes; a key is {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes "
            "(make one with: head -c 32 /dev/urandom | base64)"
        )
    return key


def _mac(key: bytes, request: Message) -> str:
    body = {k: v for k, v in request.items() if k != "auth"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def sign(request: Message, key: bytes, now: float) -> Message:
    """`request` with `ts` and `auth` added."""
    stamped = {**request, "ts": now}
    stamped["auth"] = _mac(key, stamped)
    return stamped


def check(request: Message, key: bytes, now: float) -> None:
    """`RequestError` unless the request is signed with `key` and stamped within `MAX_SKEW_S` of `now`."""
    auth = request.get("auth")
    if not isinstance(auth, str):
        raise RequestError('host control: the request is not signed ("auth" missing); sign it with the pool key')
    if not hmac.compare_digest(auth, _mac(key, request)):
        raise RequestError(
            "host control: bad signature; the plugin's --network-key-file and the device host's key differ"
        )
    ts = request.get("ts")
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts) or abs(now - ts) > MAX_SKEW_S:
        raise RequestError(
            f'host control: "ts" is missing or more than {MAX_SKEW_S:.0f} s from the host\'s clock; '
            "sync the clocks (or the request was replayed)"
        )
