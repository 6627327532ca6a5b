"""A cluster's record of itself (`cluster.json`): what `up` found and started, read back by every other
operation. Read without a lock, so always written atomically."""

from __future__ import annotations

import json
from pathlib import Path

from fakedevices.plugin.atomic import write_atomically


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, object]:
        """The recorded state; {} when there is none (no cluster, or a file cut short)."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def update(self, **updates: object) -> None:
        state = self.read()
        state.update(updates)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, json.dumps(state, indent=2, sort_keys=True).encode())
