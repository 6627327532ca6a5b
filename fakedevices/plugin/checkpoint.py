"""The plugin's memory across restarts: which claims are prepared, with what.

One JSON file per prepared claim (``<dir>/<uid>.json``, with a checksum), written atomically (temp
file + rename) before prepare answers and removed by unprepare, so a change costs one small file,
whatever the number of prepared claims, and changes of different claims never wait for each other.
Unprepare works from this alone, because the claim object may already be deleted when it runs.

Several plugin instances may serve one state dir (an upgrade): the files are the truth, each instance
keeps a copy in memory and reads a claim's file again (``refresh``) before it acts on the claim, under
the claim's lock (``state_lock.py``), and the whole directory again for ``claims()``.

Crash-safe, not power-loss-safe, on purpose: the files are not fsynced. The state dir is runtime state
(``/run/drafarm/<node>``) like the emulators' sessions it records, which a reboot ends too; what must
survive is the plugin process dying at any point, and the rename gives that.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fakedevices.plugin.atomic import remove_stale_temporaries, write_atomically

log = logging.getLogger(__name__)
FORMAT_VERSION = 2
LEGACY_FILE = "checkpoint.json"  # format 1: every claim in one file, next to the claims directory
_SAFE_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


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

    def to_json(self) -> dict[str, Any]:
        """What `dataclasses.asdict` gives, without its deep copies (the result is only serialized)."""
        return {
            "uid": self.uid,
            "namespace": self.namespace,
            "name": self.name,
            "cdi_spec": self.cdi_spec,
            "devices": [{name: getattr(d, name) for name in _DEVICE_FIELDS} for d in self.devices],
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> PreparedClaim:
        devices = tuple(PreparedDevice(**d) for d in data.get("devices", []))
        return PreparedClaim(data["uid"], data["namespace"], data["name"], data["cdi_spec"], devices)


_DEVICE_FIELDS = tuple(f.name for f in fields(PreparedDevice))


class CheckpointCorrupt(ValueError):
    """A checkpoint file fails its checksum or cannot be parsed; the message names it and the fix."""


class Checkpoint:
    """Prepared claims by UID, one file each under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._prefix = f"{directory}{os.sep}"
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(directory)
        self._claims = {claim.uid: claim for claim in map(_read, sorted(directory.glob("*.json")))}
        self._adopt_legacy(directory.parent / LEGACY_FILE)

    def path_for(self, uid: str) -> Path:
        """The claim's file: the UID itself when it is a safe file name (API server UIDs are), else a hash."""
        return Path(self._file(uid))

    def _file(self, uid: str) -> str:
        if _SAFE_UID.fullmatch(uid):
            return f"{self._prefix}{uid}.json"
        return f"{self._prefix}x-{hashlib.sha256(uid.encode()).hexdigest()[:32]}.json"

    def get(self, uid: str) -> PreparedClaim | None:
        """The claim as this process last saw it (``refresh`` for what the file says now)."""
        return self._claims.get(uid)

    def refresh(self, uid: str) -> PreparedClaim | None:
        """The claim as its file says now: another instance serving the state dir may have written or
        removed it. A file once written is never changed, only removed, so a known claim is not read again."""
        file = self._file(uid)
        if not os.path.exists(file):
            with self._lock:
                self._claims.pop(uid, None)
            return None
        known = self._claims.get(uid)
        if known is not None:
            return known
        try:
            claim = _read(Path(file))
        except FileNotFoundError:
            return None
        with self._lock:
            self._claims[uid] = claim
        return claim

    def claims(self) -> list[PreparedClaim]:
        """Every claim the directory holds now."""
        on_disk = {entry.path for entry in os.scandir(self.directory) if _is_claim_file(entry.name)}
        with self._lock:
            known = {self._file(uid): uid for uid in self._claims}
        for path in known.keys() - on_disk:
            with self._lock:
                self._claims.pop(known[path], None)
        for path in sorted(on_disk - known.keys()):
            try:
                claim = _read(Path(path))
            except FileNotFoundError:
                continue  # removed since the scan
            except CheckpointCorrupt as exc:
                log.error("%s", exc)
                continue
            with self._lock:
                self._claims[claim.uid] = claim
        with self._lock:
            return list(self._claims.values())

    def __len__(self) -> int:
        return len(self._claims)

    def put(self, claim: PreparedClaim) -> None:
        """Record the claim; on disk when this returns (``OSError`` if it could not be written)."""
        text = _canonical(claim.to_json())
        document = f'{{"version":{FORMAT_VERSION},"checksum":"{_digest(text)}","claim":{text}}}'
        write_atomically(self._file(claim.uid), document.encode(), mode=0o600)
        with self._lock:
            self._claims[claim.uid] = claim

    def remove(self, uid: str) -> None:
        """Forget the claim (a no-op for an unknown UID)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._file(uid))
        with self._lock:
            self._claims.pop(uid, None)

    def _adopt_legacy(self, legacy: Path) -> None:
        """Claims a format-1 plugin checkpointed in one file: written as files of their own, then it goes."""
        remove_stale_temporaries(legacy.parent, legacy.name)
        if not legacy.exists():
            return
        try:
            document = json.loads(legacy.read_text())
            body = document["claims"]
            if document.get("checksum") != _digest(_canonical(body)):
                raise ValueError("checksum mismatch: the file was changed or cut short")
            claims = [PreparedClaim.from_json(c) for c in body.values()]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CheckpointCorrupt(
                f"checkpoint {legacy} is unreadable ({exc}); move it aside to start with no prepared claims"
            ) from exc
        for claim in claims:
            if claim.uid not in self._claims:
                self.put(claim)
        legacy.unlink()


def _is_claim_file(name: str) -> bool:
    return name.endswith(".json") and not name.startswith(".")


def _read(path: Path) -> PreparedClaim:
    """The claim in `path`; ``FileNotFoundError`` when it is gone, ``CheckpointCorrupt`` when unreadable."""
    data = path.read_bytes()
    try:
        document = json.loads(data)
        body = document["claim"]
        if document.get("checksum") != _digest(_canonical(body)):
            raise ValueError("checksum mismatch: the file was changed or cut short")
        return PreparedClaim.from_json(body)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointCorrupt(
            f"checkpoint file {path} is unreadable ({exc}); move it aside (the plugin then treats that claim "
            "as not prepared) and start the plugin again"
        ) from exc


def _canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
