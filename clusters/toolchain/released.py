"""Which releases of k8s.io/kubernetes the Go module proxy serves (`go list -m -versions`), cached.

The list is kept in `<cache>/toolchain/k8s-releases.json`; a version not in the cached list makes one
fresh query (it may have been released since), so a typo costs one proxy round trip, not one per call.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from clusters import paths
from clusters.toolchain.goenv import GoMissingError, build_env, find_go

MODULE = "k8s.io/kubernetes"
QUERY_TIMEOUT_S = 120


class ReleaseQueryError(RuntimeError):
    pass


def cache_file() -> Path:
    return paths.toolchain_root() / "k8s-releases.json"


def served_versions(wanted: str = "") -> list[str]:
    """The released versions (no pre-releases), oldest first; queried again when `wanted` is missing."""
    cached = _read_cache()
    if cached and (not wanted or wanted in cached):
        return cached
    fresh = query_proxy()
    _write_cache(fresh)
    return fresh


def query_proxy() -> list[str]:
    try:
        go = find_go()
    except GoMissingError as exc:
        raise ReleaseQueryError(f"cannot ask the Go module proxy which Kubernetes releases exist: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="drafarm-releases-") as tmp:
        try:
            proc = subprocess.run(
                [str(go), "list", "-m", "-versions", "-json", MODULE],
                cwd=tmp,
                env=build_env(),
                capture_output=True,
                text=True,
                timeout=QUERY_TIMEOUT_S,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReleaseQueryError(f"`go list -m -versions {MODULE}` did not finish: {exc}") from exc
    if proc.returncode != 0:
        raise ReleaseQueryError(
            f"`go list -m -versions {MODULE}` failed: {proc.stderr.strip()[:300]}; "
            "check GOPROXY and that this host reaches the Go module proxy"
        )
    try:
        versions = json.loads(proc.stdout).get("Versions", [])
    except ValueError as exc:
        raise ReleaseQueryError(f"`go list -m -versions {MODULE}` printed no JSON: {proc.stdout[:200]!r}") from exc
    return [v for v in versions if isinstance(v, str) and "-" not in v]


def _read_cache() -> list[str]:
    try:
        data = json.loads(cache_file().read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(data, list):
        return []
    return [v for v in data if isinstance(v, str)]


def _write_cache(versions: list[str]) -> None:
    path = cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(versions))
    tmp.replace(path)
