"""The farm's DRA driver image (`drafarm.local/driver`): drafarm and its runtime dependencies, offline.

On top of the workload image's root (static busybox, the host's Python with its stdlib): the
distributions `drafarm` needs at run time (its requirements, followed recursively, markers evaluated,
no extras), copied file by file from the environment drafarm runs in, with the shared libraries their
extension modules link (found by `ldd`); and drafarm's own packages. `python3 -m harness plugin run`
is the driver's command (see clusters/driver/manifest.py).
"""

from __future__ import annotations

import importlib.metadata as md
import os
import re
import shutil
import sys
from pathlib import Path

from packaging.requirements import Requirement

from clusters.images import oci, rootfs
from clusters.images.catalog import ImageSpec

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("fakedevices", "harness", "clusters", "suites")
SITE = "opt/drafarm/site-packages"
_SKIP_PARTS = {"__pycache__", "tests"}


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_distributions(root: str = "drafarm") -> list[md.Distribution]:
    """`root` and every distribution it requires at run time, found in this environment."""
    found: dict[str, md.Distribution] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if _key(name) in found:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue  # only required under a marker that does not hold here
        found[_key(name)] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return [found[k] for k in sorted(found) if k != _key(root)]


def _dist_files(dist: md.Distribution) -> list[tuple[Path, str]]:
    """(source, path under site-packages) for each installed file of `dist` that an import can use."""
    files = []
    for entry in dist.files or []:
        rel = entry.as_posix()
        if rel.startswith("..") or _SKIP_PARTS & set(entry.parts) or rel.endswith(".pyc"):
            continue
        source = Path(str(dist.locate_file(entry)))
        if source.is_file():
            files.append((source, rel))
    return files


def _project_files() -> list[tuple[Path, str]]:
    files = []
    for package in PROJECT_PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*")):
            rel = path.relative_to(PROJECT_ROOT)
            if path.is_file() and not (_SKIP_PARTS & set(rel.parts)) and path.suffix != ".pyc":
                files.append((path, rel.as_posix()))
    return files


def _inputs() -> list[Path]:
    paths = [Path(sys.executable).resolve(), Path(__file__)]
    paths += [source for dist in runtime_distributions() for source, _ in _dist_files(dist)]
    paths += [source for source, _ in _project_files()]
    return paths


def _place_library(root: Path, library: str) -> None:
    real = os.path.realpath(library)
    dest = root / os.path.realpath(os.path.dirname(library)).lstrip("/") / os.path.basename(library)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        shutil.copy2(real, dest)


def driver_rootfs(root: Path) -> None:
    rootfs.workload_rootfs(root)
    site = root / SITE
    extensions = []
    for dist in runtime_distributions():
        for source, rel in _dist_files(dist):
            dest = site / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
            if dest.suffix == ".so" or ".so." in dest.name:
                extensions.append(source)
    app = root / rootfs.APP_DIR
    for source, rel in _project_files():
        dest = app / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)
    for library in sorted({lib for ext in extensions for lib in rootfs.shared_libraries(ext)}):
        _place_library(root, library)


DRIVER = ImageSpec(
    name="driver",
    config=oci.ImageConfig(
        ref="drafarm.local/driver:1",
        cmd=["python3", "-m", "harness", "--help"],
        env=[
            "PATH=/usr/local/bin:/usr/bin:/bin",
            f"PYTHONPATH=/{rootfs.APP_DIR}:/{SITE}",
            "PYTHONDONTWRITEBYTECODE=1",
        ],
    ),
    build_rootfs=driver_rootfs,
    inputs=_inputs,
)
