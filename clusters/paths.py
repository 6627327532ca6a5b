"""Where drafarm keeps what it builds and runs: one cache root, overridable by environment."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "DRAFARM_CACHE_DIR"
STATE_ENV = "DRAFARM_STATE_DIR"


def cache_root() -> Path:
    """The cache root: `$DRAFARM_CACHE_DIR`, else `$XDG_CACHE_HOME/drafarm`, else `~/.cache/drafarm`."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "drafarm").resolve()


def toolchain_root() -> Path:
    return cache_root() / "toolchain"


def modules_root() -> Path:
    """Working copies of the wrapper Go modules (the pinned originals live in the source tree)."""
    return cache_root() / "modules"


def images_root() -> Path:
    return cache_root() / "images"


def state_root() -> Path:
    """Running clusters' directories: `$DRAFARM_STATE_DIR`, else `<cache>/clusters`."""
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return cache_root() / "clusters"
