"""The last lines of a log file, for error messages and diagnostics (undecodable bytes replaced)."""

from __future__ import annotations

from pathlib import Path


def read_tail(path: Path, lines: int) -> str:
    """The last `lines` lines of `path` (trailing blank lines left out); OSError when it cannot be read."""
    return "\n".join(path.read_text(errors="replace").rstrip().splitlines()[-lines:])


def log_tail(path: Path, lines: int, missing: str = "") -> str:
    """`read_tail`, or `missing` where there is no log to read."""
    try:
        return read_tail(path, lines)
    except OSError:
        return missing
