"""The plugin's memory across restarts: which claims are prepared, with what, written atomically.

Unprepare works from this alone, because the claim object may already be deleted when it runs.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fakedevices.plugin.atomic import remove_stale_temporaries, write_atomically

FORMAT_VERSION = 1


@dataclass(frozen=True)
class PreparedDevice:
    request: str
    pool: str
    device: str
    kind: str
    physical: str
    cdi_id: str
    session_id: str
    endpoint: str
    share_id: str | None = None
    parameters: Any = None
    consumed_capacity: dict[str, str] = field(default_factory=dict)
    admin_access: bool = False


@dataclass(frozen=True)
class PreparedClaim:
    uid: str
    namespace: str
    name: str
    cdi_spec: str
    devices: tuple[PreparedDevice, ...] = field(default=())

    @staticmethod
    def from_json(data: dict[str, Any]) -> PreparedClaim:
        devices = tuple(PreparedDevice(**d) for d in data.get("devices", []))
        return PreparedClaim(data["uid"], data["namespace"], data["name"], data["cdi_spec"], devices)


class CheckpointCorrupt(RuntimeError):
    pass


class Checkpoint:
    """Prepared claims by UID, persisted to one JSON file with a checksum."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._claims: dict[str, PreparedClaim] = {}
        self._json_cache: dict[str, tuple[PreparedClaim, dict[str, Any]]] = {}
        remove_stale_temporaries(path.parent, path.name)
        if path.exists():
            self._claims = self._read()

    def _read(self) -> dict[str, PreparedClaim]:
        try:
            document = json.loads(self.path.read_text())
            body = document["claims"]
            if document.get("checksum") != _checksum(body):
                raise CheckpointCorrupt(f"checksum mismatch in {self.path}")
            return {uid: PreparedClaim.from_json(c) for uid, c in body.items()}
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointCorrupt(
                f"checkpoint {self.path} is unreadable ({exc}); move it aside to start with no prepared claims"
            ) from exc

    # Readers need no lock: writers swap in a whole new dict after the file is written.
    def get(self, uid: str) -> PreparedClaim | None:
        return self._claims.get(uid)

    def claims(self) -> list[PreparedClaim]:
        return list(self._claims.values())

    def __len__(self) -> int:
        return len(self._claims)

    def put(self, claim: PreparedClaim) -> None:
        with self._lock:
            updated = {**self._claims, claim.uid: claim}
            self._write(updated)
            self._claims = updated

    def remove(self, uid: str) -> None:
        with self._lock:
            if uid not in self._claims:
                return
            updated = {k: v for k, v in self._claims.items() if k != uid}
            self._write(updated)
            self._claims = updated
            self._json_cache.pop(uid, None)

    def _write(self, claims: dict[str, PreparedClaim]) -> None:
        body = {uid: self._as_json(c) for uid, c in sorted(claims.items())}
        document = {"version": FORMAT_VERSION, "checksum": _checksum(body), "claims": body}
        write_atomically(self.path, json.dumps(document, separators=(",", ":")).encode(), mode=0o600)

    def _as_json(self, claim: PreparedClaim) -> dict[str, Any]:
        cached = self._json_cache.get(claim.uid)
        if cached is None or cached[0] is not claim:
            cached = (claim, asdict(claim))
            self._json_cache[claim.uid] = cached
        return cached[1]


def _checksum(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
