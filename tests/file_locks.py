"""Whether some other holder has a file `flock`ed: the tests' probe of the locks harness and clusters take."""

from __future__ import annotations

import fcntl
from pathlib import Path


def locked_by_another(path: Path) -> bool:
    """Try `path` alone without waiting (creating it if missing) and let it go at once."""
    with path.open("ab") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
