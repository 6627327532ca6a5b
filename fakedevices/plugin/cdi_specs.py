"""One CDI spec file per prepared claim, written atomically and removed on unprepare."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fakedevices.kinds.base import ContainerEdits
from fakedevices.plugin.atomic import remove_stale_temporaries, write_atomically
from fakedevices.plugin.layout import PluginLayout, cdi_spec_glob

CDI_VERSION = "0.6.0"


@dataclass(frozen=True)
class CdiDevice:
    name: str
    edits: ContainerEdits


class CdiSpecs:
    def __init__(self, layout: PluginLayout) -> None:
        self.layout = layout
        self.kind = layout.cdi_kind
        if layout.cdi_dir.is_dir():
            remove_stale_temporaries(layout.cdi_dir, cdi_spec_glob(layout.driver))

    def device_name(self, claim_uid: str, device: str) -> str:
        """Claim UID in every name, so a CDI ID is never reused across claims (runtimes cache specs)."""
        return f"{claim_uid}-{device}"

    def qualified_id(self, name: str) -> str:
        return f"{self.kind}={name}"

    def path_for(self, claim_uid: str) -> Path:
        return self.layout.cdi_spec(claim_uid)

    def write(self, claim_uid: str, devices: Sequence[CdiDevice]) -> str:
        """Write the claim's spec; its file's path."""
        spec = {
            "cdiVersion": CDI_VERSION,
            "kind": self.kind,
            "devices": [{"name": d.name, "containerEdits": d.edits.to_cdi()} for d in devices],
        }
        path = self.layout.cdi_spec_file(claim_uid)
        write_atomically(path, json.dumps(spec, separators=(",", ":")).encode())
        return path

    def remove(self, claim_uid: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.layout.cdi_spec_file(claim_uid))

    def existing_claims(self) -> list[str]:
        return [self.layout.claim_of_cdi_spec(p) for p in self.layout.cdi_specs()]
