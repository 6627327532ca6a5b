"""A distribution installed while a test runs: its files and entry points on sys.path, the kind
registry looking again, and all of it gone afterwards."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from fakedevices.kinds import registry


@contextmanager
def installed(site: Path, module: str, files: Mapping[str, str], kinds: Mapping[str, str]) -> Iterator[None]:
    """`files` (path under `site`: text) of top-level `module`, with entry points `kinds` (kind name:
    "module:attribute") in the registry's group."""
    for path, text in files.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text)
    dist_info = site / f"{module}-0.1.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    entry_points = "".join(f"{name} = {value}\n" for name, value in kinds.items())
    (dist_info / "entry_points.txt").write_text(f"[{registry.ENTRY_POINT_GROUP}]\n{entry_points}")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    registry.refresh()
    try:
        yield
    finally:
        sys.path.remove(str(site))
        sys.modules.pop(module, None)
        importlib.invalidate_caches()
        registry.refresh()
