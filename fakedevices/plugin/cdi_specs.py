"""One CDI spec file per prepared claim, written atomically and removed on unprepare."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fakedevices.kinds.base import ContainerEdits
from fakedevices.plugin.atomic import remove_stale_temporaries, write_atomically

CDI_VERSION = "0.6.0"
DYNAMIC_CDI_DIR = Path("/var/run/cdi")
CDI_CLASS = "claim"


@dataclass(frozen=True)
class CdiDevice:
    name: str
    edits: ContainerEdits


class CdiSpecs:
    def __init__(self, directory: Path, driver: str) -> None:
        self.directory = directory
        self.kind = f"{driver}/{CDI_CLASS}"
        self._file_prefix = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{driver}-{CDI_CLASS}")
        self._path_prefix = f"{directory}{os.sep}{self._file_prefix}_"
        if directory.is_dir():
            remove_stale_temporaries(directory, f"{self._file_prefix}_*.json")

    def device_name(self, claim_uid: str, device: str) -> str:
        """Claim UID in every name, so a CDI ID is never reused across claims (runtimes cache specs)."""
        return f"{claim_uid}-{device}"

    def qualified_id(self, name: str) -> str:
        return f"{self.kind}={name}"

    def path_for(self, claim_uid: str) -> Path:
        return Path(f"{self._path_prefix}{claim_uid}.json")

    def write(self, claim_uid: str, devices: Sequence[CdiDevice]) -> Path:
        spec = {
            "cdiVersion": CDI_VERSION,
            "kind": self.kind,
            "devices": [{"name": d.name, "containerEdits": d.edits.to_cdi()} for d in devices],
        }
        path = f"{self._path_prefix}{claim_uid}.json"
        write_atomically(path, json.dumps(spec, separators=(",", ":")).encode())
        return Path(path)

    def remove(self, claim_uid: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{self._path_prefix}{claim_uid}.json")

    def existing_claims(self) -> list[str]:
        prefix = f"{self._file_prefix}_"
        return [p.stem[len(prefix) :] for p in self.directory.glob(f"{prefix}*.json")]
