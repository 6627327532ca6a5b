"""Writing an image archive that `ctr images import` accepts, from a root filesystem directory.

The archive holds an OCI image layout (oci-layout, index.json, blobs/sha256/...) and, for tools that
read the older format, a docker-archive `manifest.json` naming the same blobs. The single layer is an
uncompressed tar written deterministically (sorted, owner root, mtime 0), so the same rootfs always
gives the same image digest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass(frozen=True)
class ImageConfig:
    ref: str
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    workdir: str = "/"
    labels: dict[str, str] = field(default_factory=dict)


def go_arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)


def _tarinfo(name: str, st: os.stat_result, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    info.type = kind
    return info


def layer_tar(rootfs: Path) -> bytes:
    """A deterministic tar of everything under `rootfs` (hard links become copies)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        entries = sorted(p for p in rootfs.rglob("*"))
        for path in entries:
            rel = path.relative_to(rootfs).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                info = _tarinfo(rel, st, tarfile.SYMTYPE)
                info.linkname = os.readlink(path)
                info.mode = 0o777
                tar.addfile(info)
            elif stat.S_ISDIR(st.st_mode):
                tar.addfile(_tarinfo(rel, st, tarfile.DIRTYPE))
            elif stat.S_ISREG(st.st_mode):
                info = _tarinfo(rel, st, tarfile.REGTYPE)
                info.size = st.st_size
                with path.open("rb") as fh:
                    tar.addfile(info, fh)
    return buf.getvalue()


def _blob(data: bytes) -> tuple[str, int]:
    return "sha256:" + hashlib.sha256(data).hexdigest(), len(data)


def write_archive(rootfs: Path, config: ImageConfig, out: Path) -> str:
    """Write `out` (a tar of OCI layout + docker manifest); return the manifest digest."""
    layer = layer_tar(rootfs)
    layer_digest, layer_size = _blob(layer)
    image_config = {
        "architecture": go_arch(),
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {
            "Entrypoint": config.entrypoint or None,
            "Cmd": config.cmd or None,
            "Env": config.env or None,
            "WorkingDir": config.workdir,
            "Labels": config.labels or None,
        },
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "drafarm clusters.images"}],
    }
    config_bytes = json.dumps(image_config, sort_keys=True).encode()
    config_digest, config_size = _blob(config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": MEDIA_LAYER, "digest": layer_digest, "size": layer_size}],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    manifest_digest, manifest_size = _blob(manifest_bytes)
    tag = config.ref.rsplit(":", 1)[1] if ":" in config.ref.rsplit("/", 1)[-1] else "latest"
    index = {
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [
            {
                "mediaType": MEDIA_MANIFEST,
                "digest": manifest_digest,
                "size": manifest_size,
                "platform": {"architecture": go_arch(), "os": "linux"},
                "annotations": {
                    "io.containerd.image.name": config.ref,
                    "org.opencontainers.image.ref.name": tag,
                },
            }
        ],
    }
    docker_manifest = [
        {
            "Config": "blobs/sha256/" + config_digest.split(":")[1],
            "RepoTags": [config.ref],
            "Layers": ["blobs/sha256/" + layer_digest.split(":")[1]],
        }
    ]
    files: list[tuple[str, bytes]] = [
        ("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode()),
        ("index.json", json.dumps(index, sort_keys=True).encode()),
        ("manifest.json", json.dumps(docker_manifest).encode()),
    ]
    for digest, data in (
        (layer_digest, layer),
        (config_digest, config_bytes),
        (manifest_digest, manifest_bytes),
    ):
        files.append(("blobs/sha256/" + digest.split(":")[1], data))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    tmp.replace(out)
    return manifest_digest


def archive_refs(archive: Path) -> list[str]:
    """Image names an archive carries: OCI `io.containerd.image.name` annotations, else docker RepoTags."""
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        refs: list[str] = []
        if "index.json" in names:
            member = tar.extractfile("index.json")
            index = json.load(member) if member else {}
            for entry in index.get("manifests", []):
                ref = entry.get("annotations", {}).get("io.containerd.image.name")
                if ref:
                    refs.append(ref)
        if not refs and "manifest.json" in names:
            member = tar.extractfile("manifest.json")
            for entry in json.load(member) if member else []:
                refs += entry.get("RepoTags") or []
    return refs
