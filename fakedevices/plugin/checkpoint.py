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
    """Prepared claims by UID, persisted to one JSON file with a checksum.

    ``put`` and ``remove`` return once their change is on disk. Changes made concurrently are written
    together (group commit): one caller writes the file, with every change queued so far, while the others
    wait for it, so N concurrent callers cost one write and one fsync, not N.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._written_cond = threading.Condition(self._lock)
        self._durable: dict[str, PreparedClaim] = {}
        self._pending: list[_Change] = []
        self._writing = False
        self._json_cache: dict[str, tuple[PreparedClaim, dict[str, Any]]] = {}
        remove_stale_temporaries(path.parent, path.name)
        if path.exists():
            self._durable = self._read()
        self._claims = self._durable

    def _read(self) -> dict[str, PreparedClaim]:
        try:
            document = json.loads(self.path.read_text())
            body = document["claims"]
            if document.get("checksum") != _checksum(body):
                raise ValueError("checksum mismatch: the file was changed or cut short")
            return {uid: PreparedClaim.from_json(c) for uid, c in body.items()}
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointCorrupt(
                f"checkpoint {self.path} is unreadable ({exc}); move it aside to start with no prepared claims"
            ) from exc

    # Readers need no lock: writers swap in a whole new dict. They see a queued change as soon as it is
    # queued; the caller that made it (holding the claim's lock) returns only once it is on disk.
    def get(self, uid: str) -> PreparedClaim | None:
        return self._claims.get(uid)

    def claims(self) -> list[PreparedClaim]:
        return list(self._claims.values())

    def __len__(self) -> int:
        return len(self._claims)

    def put(self, claim: PreparedClaim) -> None:
        self._commit(_Change(claim.uid, claim))

    def remove(self, uid: str) -> None:
        if uid in self._claims:
            self._commit(_Change(uid, None))

    def _commit(self, change: _Change) -> None:
        with self._lock:
            self._pending.append(change)
            self._claims = _apply(self._claims, [change])
            while not change.done:
                if self._writing:
                    self._written_cond.wait()
                    continue
                batch, self._pending = self._pending, []
                self._writing = True
                self._lock.release()
                failure: BaseException | None = None
                try:
                    updated = _apply(self._durable, batch)
                    self._write(updated)
                except BaseException as exc:  # every waiter of the batch must hear of it
                    failure = exc
                finally:
                    self._lock.acquire()
                    self._writing = False
                if failure is None:
                    self._durable = updated
                else:
                    # The batch is not on disk: forget its changes, keep the ones queued since.
                    self._claims = _apply(self._durable, self._pending)
                for done in batch:
                    done.done, done.failure = True, failure
                self._written_cond.notify_all()
        if change.failure is not None:
            raise OSError(f"checkpoint {self.path} not written: {change.failure}") from change.failure

    def _write(self, claims: dict[str, PreparedClaim]) -> None:
        body = {uid: self._as_json(c) for uid, c in sorted(claims.items())}
        for uid in [uid for uid in self._json_cache if uid not in claims]:
            del self._json_cache[uid]
        document = {"version": FORMAT_VERSION, "checksum": _checksum(body), "claims": body}
        write_atomically(self.path, json.dumps(document, separators=(",", ":")).encode(), mode=0o600)

    def _as_json(self, claim: PreparedClaim) -> dict[str, Any]:
        cached = self._json_cache.get(claim.uid)
        if cached is None or cached[0] is not claim:
            cached = (claim, asdict(claim))
            self._json_cache[claim.uid] = cached
        return cached[1]


@dataclass
class _Change:
    """One queued put (``claim``) or remove (``claim is None``) of a UID."""

    uid: str
    claim: PreparedClaim | None
    done: bool = False
    failure: BaseException | None = None


def _apply(claims: dict[str, PreparedClaim], changes: list[_Change]) -> dict[str, PreparedClaim]:
    updated = dict(claims)
    for change in changes:
        if change.claim is None:
            updated.pop(change.uid, None)
        else:
            updated[change.uid] = change.claim
    return updated


def _checksum(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
