"""Images into the cluster's containerd: imported into the CRI namespace and pinned against its GC."""

from __future__ import annotations

import subprocess
from pathlib import Path

from clusters.images import catalog, oci
from clusters.provider import ClusterError


def import_image(ctr: Path, socket: Path, archive: Path) -> list[str]:
    """`ctr images import` into the CRI namespace, then pin each imported image against GC."""
    refs = oci.archive_refs(archive)
    if not refs:
        raise ClusterError(f"{archive} names no image (no index.json annotation or RepoTags); rebuild it")
    base = [str(ctr), "--address", str(socket), "--namespace", "k8s.io"]
    proc = subprocess.run([*base, "images", "import", str(archive)], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise ClusterError(
            f"`ctr images import {archive}` failed: {proc.stderr.strip()}; rebuild the image archive and retry"
        )
    for ref in refs:
        label = subprocess.run(
            [*base, "images", "label", ref, f"{catalog.PINNED_LABEL}=pinned"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if label.returncode != 0:
            raise ClusterError(f"image {ref} from {archive} is not in containerd after import: {label.stderr.strip()}")
    return refs
