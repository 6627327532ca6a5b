"""The images kubeadm runs (control plane, kube-proxy, CoreDNS, pause), built from our binaries.

kubeadm names the images it expects (`kubeadm config images list`); each is built here under exactly
that name, so nothing is ever pulled. The Go programs are static, so an image is the binary plus the
few files every container expects; kube-proxy also gets iptables (nft) and conntrack with their
libraries from the node's Debian root filesystem, found by `ldd` run inside that root.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clusters.images import oci

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
IPTABLES_TOOLS = (
    "iptables",
    "iptables-save",
    "iptables-restore",
    "ip6tables",
    "ip6tables-save",
    "ip6tables-restore",
)


class ControlPlaneImageError(RuntimeError):
    pass


@dataclass(frozen=True)
class Expected:
    """The image refs this kubeadm deploys, by component."""

    refs: dict[str, str]

    def ref(self, component: str) -> str:
        try:
            return self.refs[component]
        except KeyError:
            raise ControlPlaneImageError(
                f"kubeadm names no {component!r} image (it lists {sorted(self.refs.values())})"
            ) from None


def expected_images(kubeadm: Path, k8s_version: str) -> Expected:
    """Ask kubeadm which images it deploys for `k8s_version` (offline: no registry is asked)."""
    proc = subprocess.run(
        [str(kubeadm), "config", "images", "list", f"--kubernetes-version={k8s_version}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        raise ControlPlaneImageError(f"`kubeadm config images list` failed: {proc.stderr.strip()}")
    refs = {}
    for line in proc.stdout.split():
        name = line.rsplit(":", 1)[0].rsplit("/", 1)[-1]
        refs[name] = line.strip()
    return Expected(refs)


def tag_of(ref: str) -> str:
    return ref.rsplit(":", 1)[1]


def _minimal_layout(root: Path) -> None:
    for d in ("usr/local/bin", "usr/bin", "etc", "tmp", "var/run"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    (root / "etc/group").write_text("root:x:0:\nnogroup:x:65534:\n")


def _static_binary_rootfs(root: Path, binary: Path, dest: str) -> None:
    _minimal_layout(root)
    target = root / dest.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(binary, target)


def _chroot_libraries(base: Path, *programs: str) -> list[str]:
    """The shared libraries `programs` need, as `ldd` inside the base root filesystem finds them."""
    proc = subprocess.run(["chroot", str(base), "ldd", *programs], capture_output=True, text=True, timeout=120)
    libs = []
    for line in proc.stdout.splitlines():
        if line.rstrip().endswith(":"):  # a "<program>:" heading when several are asked about
            continue
        part = line.split("=>")[-1].strip().split(" ")[0]
        if part.startswith("/"):
            libs.append(part)
    return libs


def _copy_from_base(base: Path, root: Path, path: str) -> None:
    """Copy `path` of the base root filesystem into `root`, resolving symlinks inside the base."""
    source = base / path.lstrip("/")
    real = source.resolve()
    if not str(real).startswith(str(base.resolve())):
        real = base / str(real).lstrip("/")
    dest = root / path.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        shutil.copy2(real, dest)


def kube_proxy_rootfs(root: Path, kube_proxy: Path, base: Path) -> None:
    _static_binary_rootfs(root, kube_proxy, "/usr/local/bin/kube-proxy")
    multi = "/usr/sbin/xtables-nft-multi"
    programs = [multi, "/usr/sbin/conntrack"]
    for program in programs:
        if not (base / program.lstrip("/")).exists():
            raise ControlPlaneImageError(f"the node base rootfs has no {program} (is `iptables`/`conntrack` in it?)")
        _copy_from_base(base, root, program)
        for lib in _chroot_libraries(base, program):
            _copy_from_base(base, root, lib)
    for tool in IPTABLES_TOOLS:
        link = root / "usr/sbin" / tool
        if not link.exists():
            link.symlink_to("xtables-nft-multi")
    # iptables' match and target extensions are loaded at run time, each with libraries of its own
    extensions = sorted((base / "usr/lib").glob("*/xtables/*.so"))
    inside = ["/" + str(e.relative_to(base)) for e in extensions]
    for path in inside:
        _copy_from_base(base, root, path)
    for lib in sorted(set(_chroot_libraries(base, *inside))):
        _copy_from_base(base, root, lib)
    if not extensions:
        raise ControlPlaneImageError("the node base rootfs has no iptables extensions (usr/lib/*/xtables/*.so)")


Fill = Callable[[Path], None]


def _plan(
    expected: Expected, binaries: dict[str, Path], catatonit: Path, base: Path
) -> list[tuple[oci.ImageConfig, Fill]]:
    def static(component: str, dest: str) -> Fill:
        return lambda root: _static_binary_rootfs(root, binaries[component], dest)

    def etcd(root: Path) -> None:
        _static_binary_rootfs(root, binaries["etcd"], "/usr/local/bin/etcd")
        shutil.copy2(binaries["etcdctl"], root / "usr/local/bin/etcdctl")

    def env(component: str, entrypoint: list[str] | None = None) -> oci.ImageConfig:
        return oci.ImageConfig(ref=expected.ref(component), env=[PATH_ENV], entrypoint=entrypoint or [])

    plan = [
        (env(c), static(c, f"/usr/local/bin/{c}"))
        for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
    ]
    plan += [
        (env("etcd"), etcd),
        (env("kube-proxy"), lambda root: kube_proxy_rootfs(root, binaries["kube-proxy"], base)),
        (env("coredns", entrypoint=["/coredns"]), static("coredns", "/coredns")),
        (
            oci.ImageConfig(ref=expected.ref("pause"), entrypoint=["/usr/bin/catatonit", "-P"]),
            lambda root: _static_binary_rootfs(root, catatonit, "/usr/bin/catatonit"),
        ),
    ]
    return plan


def write_images(
    expected: Expected, binaries: dict[str, Path], catatonit: Path, base: Path, out_dir: Path
) -> list[Path]:
    """Write one archive per image kubeadm expects into `out_dir`; return the archives."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for config, fill in _plan(expected, binaries, catatonit, base):
        name = config.ref.rsplit(":", 1)[0].rsplit("/", 1)[-1]
        root = out_dir / f".{name}-rootfs"
        if root.exists():
            shutil.rmtree(root)
        root.mkdir()
        fill(root)
        archive = out_dir / f"{name}.tar"
        oci.write_archive(root, config, archive)
        shutil.rmtree(root)
        written.append(archive)
    return written
