"""The images drafarm builds, their references, and a cache keyed on what went into them."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clusters import paths
from clusters.images import oci, rootfs

PINNED_LABEL = "io.cri-containerd.pinned"


@dataclass(frozen=True)
class ImageSpec:
    name: str
    config: oci.ImageConfig
    build_rootfs: Callable[[Path], None]
    inputs: Callable[[], list[Path]]

    @property
    def ref(self) -> str:
        return self.config.ref


def _client_files() -> list[Path]:
    if not rootfs.CLIENT_DIR.is_dir():
        return []
    return sorted(
        p for p in rootfs.CLIENT_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


PAUSE = ImageSpec(
    name="pause",
    config=oci.ImageConfig(ref="drafarm.local/pause:1", entrypoint=["/usr/bin/catatonit", "-P"]),
    build_rootfs=rootfs.pause_rootfs,
    inputs=lambda: [rootfs.find_host_file(rootfs.CATATONIT_CANDIDATES, "catatonit")],
)

WORKLOAD = ImageSpec(
    name="workload",
    config=oci.ImageConfig(
        ref="drafarm.local/workload:1",
        cmd=["/bin/sh"],
        env=[
            "PATH=/usr/local/bin:/usr/bin:/bin",
            f"PYTHONPATH=/{rootfs.APP_DIR}",
            "PYTHONDONTWRITEBYTECODE=1",
        ],
    ),
    build_rootfs=rootfs.workload_rootfs,
    inputs=lambda: [
        Path(sys.executable).resolve(),
        rootfs.find_host_file(rootfs.BUSYBOX_CANDIDATES, "busybox-static"),
        *_client_files(),
    ],
)

ALL = (PAUSE, WORKLOAD)


def fingerprint(spec: ImageSpec) -> str:
    digest = hashlib.sha256(json.dumps(spec.config.__dict__, sort_keys=True).encode())
    digest.update(Path(oci.__file__).read_bytes())
    digest.update(Path(rootfs.__file__).read_bytes())
    for path in spec.inputs():
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def archive_path(spec: ImageSpec) -> Path:
    return paths.images_root() / f"{spec.name}-{fingerprint(spec)}.tar"


def build(spec: ImageSpec) -> Path:
    """The image archive for `spec`, built now if its inputs changed since the last build."""
    out = archive_path(spec)
    if out.is_file():
        return out
    with tempfile.TemporaryDirectory(prefix=f"drafarm-{spec.name}-") as tmp:
        root = Path(tmp) / "rootfs"
        root.mkdir()
        spec.build_rootfs(root)
        oci.write_archive(root, spec.config, out)
    for stale in out.parent.glob(f"{spec.name}-*.tar"):
        if stale != out:
            stale.unlink(missing_ok=True)
    return out


def ensure_rootfs_tools() -> None:
    if shutil.which("ldd") is None:
        raise rootfs.ImageInputError("`ldd` is missing; install the Debian package `libc-bin`")
