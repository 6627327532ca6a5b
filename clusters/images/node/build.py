"""`drafarm images build-node`: the kind node image for one Kubernetes version, assembled offline.

Steps (each reported as it begins): the toolchain binaries (built if missing, plus kube-proxy and
CoreDNS), the Debian base (cached debootstrap), the images kubeadm expects (built from our binaries
under the names kubeadm asks for, placed in `/kind/images/` and imported by containerd at boot), our
binaries and the node's files, and `docker import` of the result. The image's tag carries a
fingerprint of every input, so an unchanged build is a lookup.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clusters import paths
from clusters.host import docker_cli
from clusters.host.docker_cli import DockerError, Endpoint
from clusters.images import oci, rootfs
from clusters.images.node import base, controlplane, files
from clusters.toolchain import builder, components, lookup, versions

REPOSITORY = "drafarm.local/kind-node"
FINGERPRINT_LABEL = "dev.drafarm.node-image.fingerprint"
NODE_BINARIES = ("kubeadm", "kubelet", "kubectl", "containerd", "containerd-shim-runc-v2", "ctr", "crictl")
CNI_PLUGINS = ("bridge", "host-local", "loopback", "portmap")
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

Reporter = Callable[[str], None]


class NodeImageError(RuntimeError):
    pass


@dataclass(frozen=True)
class NodeImage:
    ref: str
    kubernetes: str
    fingerprint: str
    cached: bool
    seconds: float


def _toolchain(pins: versions.ToolPins, report: Reporter) -> dict[str, Path]:
    def progress(module: str, binary: str, phase: str) -> None:
        if phase in ("built", "failed"):
            report(f"toolchain: {module}/{binary} {phase}")

    report(f"toolchain: binaries of Kubernetes {pins.kubernetes} (built now if missing)")
    try:
        found = lookup.binaries(pins, build_missing=True, report=progress)
        found["kube-proxy"] = lookup.program(pins, "kubernetes", "kube-proxy", report=progress)
    except lookup.ToolchainMissingError as exc:
        raise NodeImageError(str(exc)) from exc
    if not pins.coredns:
        raise NodeImageError(
            f"no CoreDNS version is pinned for {pins.kubernetes}; add one in clusters/toolchain/versions.py"
        )
    (coredns,) = components.modules(pins, ("coredns",))
    failed = [r for r in builder.build([coredns], progress) if r.outcome == "failed"]
    if failed:
        raise NodeImageError(f"building CoreDNS {pins.coredns} failed: {failed[0].detail}")
    found["coredns"] = builder.binary_path(coredns, coredns.binaries[0])
    return found


def fingerprint(pins: versions.ToolPins, binaries: dict[str, Path], catatonit: Path) -> str:
    digest = hashlib.sha256(f"{pins}\n{base.fingerprint()}\n".encode())
    for module in (files, controlplane, oci, base):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(Path(__file__).read_bytes())
    for name in sorted(binaries):
        digest.update(name.encode())
        with binaries[name].open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    digest.update(catatonit.read_bytes())
    return digest.hexdigest()[:12]


def image_exists(endpoint: Endpoint, ref: str) -> bool:
    return docker_cli.run(endpoint, "image", "inspect", ref, check=False).returncode == 0


def _install(root: Path, source: Path, dest: str) -> None:
    target = root / dest.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    os.chmod(target, 0o755)


def _write_node_files(root: Path, k8s_version: str, sandbox_image: str) -> None:
    for node_file in files.node_files(k8s_version, sandbox_image):
        target = root / node_file.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_text(node_file.content)
        os.chmod(target, node_file.mode)
    units = root / "etc/systemd/system"
    wants = units / "multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    for unit in files.ENABLED_UNITS:
        link = wants / unit
        if not link.is_symlink():
            link.symlink_to(f"/etc/systemd/system/{unit}")
    for unit in files.MASKED_UNITS:
        link = units / unit
        if link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to("/dev/null")


def _import(endpoint: Endpoint, root: Path, ref: str, fp: str) -> None:
    changes = [
        f'ENTRYPOINT ["{files.ENTRYPOINT}", "/sbin/init"]',
        f"ENV {PATH_ENV}",
        "ENV container=docker",
        f"LABEL {FINGERPRINT_LABEL}={fp}",
    ]
    argv = [docker_cli.docker_binary(), "import"]
    for change in changes:
        argv += ["--change", change]
    argv += ["-", ref]
    tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    try:
        proc = subprocess.run(argv, stdin=tar.stdout, capture_output=True, text=True, env=endpoint.env(), timeout=1800)
    finally:
        if tar.stdout:
            tar.stdout.close()
        tar.wait(timeout=600)
    if proc.returncode != 0 or tar.returncode != 0:
        raise NodeImageError(f"`docker import` of the node image failed: {(proc.stderr or proc.stdout).strip()}")


def _remove_stale(endpoint: Endpoint, pins: versions.ToolPins, keep: str) -> None:
    refs = docker_cli.lines(endpoint, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", REPOSITORY)
    for ref in refs:
        if ref != keep and ref.startswith(f"{REPOSITORY}:{pins.kubernetes}-"):
            docker_cli.run(endpoint, "image", "rm", ref, check=False)


def build_node_image(k8s_version: str | None, endpoint: Endpoint, report: Reporter) -> NodeImage:
    """The node image for `k8s_version` in `endpoint`'s docker, built now unless its inputs are unchanged."""
    start = time.monotonic()
    pins = versions.resolve(k8s_version)
    binaries = _toolchain(pins, report)
    catatonit = rootfs.find_host_file(rootfs.CATATONIT_CANDIDATES, "catatonit")
    base_tar = base.build(report)
    report("fingerprinting the inputs")
    fp = fingerprint(pins, binaries, catatonit)
    ref = f"{REPOSITORY}:{pins.kubernetes}-{fp}"
    if image_exists(endpoint, ref):
        report(f"node image {ref}: cached")
        return NodeImage(ref, pins.kubernetes, fp, True, time.monotonic() - start)
    expected = controlplane.expected_images(binaries["kubeadm"], pins.kubernetes)
    coredns_tag = controlplane.tag_of(expected.ref("coredns"))
    if coredns_tag != pins.coredns:
        raise NodeImageError(
            f"kubeadm {pins.kubernetes} deploys CoreDNS {coredns_tag} but drafarm pins {pins.coredns}; "
            f"set coredns={coredns_tag!r} for {pins.kubernetes} in clusters/toolchain/versions.py"
        )
    paths.images_root().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="drafarm-node-", dir=paths.images_root()) as tmp:
        root = Path(tmp) / "rootfs"
        root.mkdir()
        report("unpacking the base rootfs")
        subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-xf", str(base_tar)], check=True, timeout=600)
        report(f"building {len(expected.refs)} images kubeadm runs: {', '.join(sorted(expected.refs.values()))}")
        controlplane.write_images(expected, binaries, catatonit, root, root / files.IMAGES_DIR.lstrip("/"))
        report("installing our binaries, CNI plugins and the node's files")
        for name in NODE_BINARIES:
            _install(root, binaries[name], f"{files.BIN}/{name}")
        for name in CNI_PLUGINS:
            _install(root, binaries[name], f"{files.CNI_BIN}/{name}")
        _write_node_files(root, pins.kubernetes, expected.ref("pause"))
        report(f"docker import → {ref}")
        try:
            _import(endpoint, root, ref, fp)
        except DockerError as exc:
            raise NodeImageError(str(exc)) from exc
    _remove_stale(endpoint, pins, ref)
    return NodeImage(ref, pins.kubernetes, fp, False, time.monotonic() - start)
