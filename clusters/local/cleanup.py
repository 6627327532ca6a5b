"""Unmounting what a cluster mounted and removing the cgroups its kubelet created."""

from __future__ import annotations

import subprocess
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
KUBELET_CGROUPS = ("kubepods", "kubepods.slice")


def mounts_under(root: Path, mountinfo: str | None = None) -> list[str]:
    """Mount points at or below `root`, deepest first."""
    text = mountinfo if mountinfo is not None else Path("/proc/self/mountinfo").read_text()
    prefix = str(root).rstrip("/")
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        point = fields[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            found.append(point)
    return sorted(set(found), key=lambda p: (-p.count("/"), p))


def unmount_all(root: Path) -> list[str]:
    left = []
    for _ in range(3):
        points = mounts_under(root)
        if not points:
            return []
        for point in points:
            proc = subprocess.run(["umount", point], capture_output=True, timeout=30)
            if proc.returncode != 0:
                subprocess.run(["umount", "-l", point], capture_output=True, timeout=30)
        left = mounts_under(root)
    return left


def cgroup_dirs() -> list[Path]:
    """Candidate kubelet cgroup directories: under each v1 controller, or the v2 root."""
    out: list[Path] = []
    if not CGROUP_ROOT.is_dir():
        return out
    bases = [CGROUP_ROOT, *[p for p in CGROUP_ROOT.iterdir() if p.is_dir() and not p.is_symlink()]]
    for base in bases:
        for name in KUBELET_CGROUPS:
            if (base / name).is_dir():
                out.append(base / name)
    return out


def remove_cgroups(before: list[str]) -> list[str]:
    """rmdir (deepest first) the kubelet cgroup trees that did not exist before the cluster started."""
    left = []
    for top in cgroup_dirs():
        if str(top) in before:
            continue
        dirs = sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
        for d in [*dirs, top]:
            try:
                d.rmdir()
            except OSError:
                left.append(str(d))
    return left


# Kernel settings the kubelet sets at start (its "kernel defaults"); restored by `down`.
KUBELET_SYSCTLS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)


def snapshot_sysctls() -> dict[str, str]:
    values = {}
    for key in KUBELET_SYSCTLS:
        try:
            values[key] = (Path("/proc/sys") / key).read_text().strip()
        except OSError:
            continue
    return values


def restore_sysctls(before: dict[str, str]) -> list[str]:
    """Write back values the kubelet changed; return the keys that could not be restored."""
    failed = []
    for key, value in before.items():
        path = Path("/proc/sys") / key
        try:
            if path.read_text().strip() != value:
                path.write_text(value)
        except OSError:
            failed.append(key)
    return failed
