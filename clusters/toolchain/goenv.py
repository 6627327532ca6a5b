"""Finding the Go toolchain and running it with the environment drafarm builds with."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

GO_ENV = "DRAFARM_GO"


class GoMissingError(RuntimeError):
    pass


def find_go() -> Path:
    """`$DRAFARM_GO`, else `go` on PATH, else /usr/local/go/bin/go."""
    override = os.environ.get(GO_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise GoMissingError(f"{GO_ENV}={override!r} is not a file; point it at a Go 1.26+ `go` binary")
        return path
    found = shutil.which("go")
    if found:
        return Path(found)
    fallback = Path("/usr/local/go/bin/go")
    if fallback.is_file():
        return fallback
    raise GoMissingError(
        "no Go toolchain found (looked at $DRAFARM_GO, PATH and /usr/local/go/bin/go); "
        "install Go 1.26+ or set DRAFARM_GO=/path/to/go"
    )


def build_env(cgo: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GOTOOLCHAIN": "local",
            "GOWORK": "off",
            "GOFLAGS": "-buildvcs=false",
            "CGO_ENABLED": "1" if cgo else "0",
        }
    )
    return env


def go_version(go: Path) -> str:
    out = subprocess.run(
        [str(go), "env", "GOVERSION"], capture_output=True, text=True, check=True, env=build_env(), timeout=60
    )
    return out.stdout.strip()
