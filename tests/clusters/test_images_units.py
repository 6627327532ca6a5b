"""Offline image archives: layout that `ctr images import` reads, deterministic content."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

from clusters.images import oci


def _rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/hello").write_text("#!/bin/sh\necho hi\n")
    (root / "bin").symlink_to("usr/bin")
    return root


def test_archive_has_oci_layout_and_docker_manifest(tmp_path: Path) -> None:
    out = tmp_path / "img.tar"
    digest = oci.write_archive(_rootfs(tmp_path), oci.ImageConfig(ref="drafarm.local/t:1", cmd=["/bin/sh"]), out)
    with tarfile.open(out) as tar:
        names = set(tar.getnames())
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
        docker = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        manifest_blob = tar.extractfile("blobs/sha256/" + digest.split(":")[1]).read()  # type: ignore[union-attr]
    assert {"oci-layout", "index.json", "manifest.json"} <= names
    entry = index["manifests"][0]
    assert entry["digest"] == digest
    assert entry["annotations"]["io.containerd.image.name"] == "drafarm.local/t:1"
    assert docker[0]["RepoTags"] == ["drafarm.local/t:1"]
    assert "sha256:" + hashlib.sha256(manifest_blob).hexdigest() == digest


def test_same_rootfs_gives_same_digest(tmp_path: Path) -> None:
    root = _rootfs(tmp_path)
    config = oci.ImageConfig(ref="drafarm.local/t:1")
    first = oci.write_archive(root, config, tmp_path / "a.tar")
    (root / "usr/bin/hello").touch()  # a new mtime must not change the image
    second = oci.write_archive(root, config, tmp_path / "b.tar")
    assert first == second


def test_layer_keeps_symlinks(tmp_path: Path) -> None:
    layer = oci.layer_tar(_rootfs(tmp_path))
    tar_path = tmp_path / "layer.tar"
    tar_path.write_bytes(layer)
    with tarfile.open(tar_path) as tar:
        link = tar.getmember("bin")
    assert link.issym() and link.linkname == "usr/bin"
