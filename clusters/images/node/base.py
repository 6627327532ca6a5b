"""The node image's base: a Debian bookworm root filesystem from `debootstrap`, cached as a tarball.

bookworm because its systemd (252) boots in a container on cgroup v1 hosts, which newer ones do not.
The tarball is keyed on the suite, mirror and package list, so changing what goes on top of it (our
binaries, images, configuration) never repeats the debootstrap.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from clusters import paths
from clusters.host.docker_cli import SYSTEM_PATH
from clusters.log_tail import read_tail

SUITE = "bookworm"
MIRROR_ENV = "DRAFARM_DEBIAN_MIRROR"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEBOOTSTRAP_TIMEOUT_S = 1800

# What a kind node runs besides our binaries: systemd as PID 1 (and dbus for the kubelet's and runc's
# systemd cgroup driver), Debian's runc, and the tools kubeadm, the kubelet, kube-proxy and kind call.
PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "runc",
    "iptables",
    "iproute2",
    "conntrack",
    "ethtool",
    "socat",
    "kmod",
    "procps",
    "util-linux",
    "mount",
    "ca-certificates",
    "libseccomp2",
)

# Trimmed after debootstrap: package caches and documentation, not needed to run.
_TRIM = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info")

Reporter = Callable[[str], None]


class BaseImageError(RuntimeError):
    pass


def mirror() -> str:
    return os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR


def fingerprint() -> str:
    digest = hashlib.sha256(f"{SUITE}\n{mirror()}\n{' '.join(PACKAGES)}\n".encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def tarball_path() -> Path:
    return paths.images_root() / f"node-base-{SUITE}-{fingerprint()}.tar"


def _unmount_under(root: Path) -> None:
    """Unmount whatever debootstrap left mounted inside `root` (deepest first)."""
    prefix = str(root.resolve()) + "/"
    points = [
        line.split()[4]
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
        if line.split()[4].startswith(prefix)
    ]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, timeout=60)


def _debootstrap(root: Path, log: Path) -> None:
    debootstrap = shutil.which("debootstrap", path=SYSTEM_PATH)
    if debootstrap is None:
        raise BaseImageError("`debootstrap` is missing; install the Debian package `debootstrap` (`make setup` does)")
    argv = [
        debootstrap,
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(root),
        mirror(),
    ]
    with log.open("w") as out:
        proc = subprocess.run(
            argv, stdout=out, stderr=subprocess.STDOUT, timeout=DEBOOTSTRAP_TIMEOUT_S, env={"PATH": SYSTEM_PATH}
        )
    if proc.returncode != 0:
        tail = read_tail(log, 20)
        raise BaseImageError(
            f"debootstrap of {SUITE} from {mirror()} failed (exit {proc.returncode}; full log {log}):\n{tail}\n"
            f"check that the mirror is reachable, or set {MIRROR_ENV} to one that is"
        )


def build(report: Reporter) -> Path:
    """The base tarball, running debootstrap now if it is not cached."""
    out = tarball_path()
    if out.is_file():
        report(f"base rootfs: cached ({out.name})")
        return out
    if os.geteuid() != 0:
        raise BaseImageError("debootstrap needs root; run `drafarm images build-node` as root")
    out.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_suffix(".log")
    with tempfile.TemporaryDirectory(prefix="drafarm-node-base-", dir=out.parent) as tmp:
        root = Path(tmp) / "rootfs"
        report(f"base rootfs: debootstrap {SUITE} ({len(PACKAGES)} packages, log {log}); a few minutes")
        try:
            _debootstrap(root, log)
        finally:
            _unmount_under(root)
        for rel in _TRIM:
            target = root / rel
            if target.is_dir():
                shutil.rmtree(target)
                target.mkdir(parents=True)
        report("base rootfs: packing")
        tmp_out = out.with_name(out.name + ".tmp")
        subprocess.run(
            ["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(tmp_out), "."],
            check=True,
            capture_output=True,
            timeout=600,
        )
        tmp_out.replace(out)
    for stale in out.parent.glob(f"node-base-{SUITE}-*.tar"):
        if stale != out:
            stale.unlink(missing_ok=True)
    return out
