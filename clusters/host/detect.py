"""What the host allows: cgroup version, init system, capabilities, oom_score_adj, mounted controllers.

Everything a cluster's configuration depends on is detected here at start, never hard-coded to one
machine: these VMs run cgroup v1 without systemd and lack CAP_SYS_RESOURCE; most users' machines
run cgroup v2 under systemd.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

CAP_SYS_RESOURCE = 24
CGROUP2_SUPER_MAGIC_FS = "cgroup2fs"
REQUIRED_V1_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "pids")


@dataclass(frozen=True)
class HostFacts:
    cgroup_version: int
    systemd_init: bool
    can_lower_oom_score_adj: bool
    has_cap_sys_resource: bool
    v1_controllers: tuple[str, ...]
    is_root: bool

    @property
    def cgroup_driver(self) -> str:
        """kubelet/containerd cgroup driver: systemd only when systemd is PID 1 on cgroup v2."""
        return "systemd" if self.systemd_init and self.cgroup_version == 2 else "cgroupfs"


def cgroup_version(root: Path = Path("/sys/fs/cgroup")) -> int:
    try:
        proc = subprocess.run(["stat", "-fc", "%T", str(root)], capture_output=True, text=True, timeout=10)
    except OSError:
        return 1
    return 2 if proc.stdout.strip() == CGROUP2_SUPER_MAGIC_FS else 1


def systemd_is_init() -> bool:
    try:
        comm = Path("/proc/1/comm").read_text().strip()
    except OSError:
        return False
    return comm == "systemd" and Path("/run/systemd/system").is_dir()


def capability_bounding_set() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            return int(line.split()[1], 16)
    return 0


def can_lower_oom_score_adj() -> bool:
    """Whether a child process may write a negative oom_score_adj (containerd does for sandboxes)."""
    try:
        proc = subprocess.run(["sh", "-c", "echo -998 > /proc/self/oom_score_adj"], capture_output=True, timeout=10)
    except OSError:
        return False
    return proc.returncode == 0


def mounted_v1_controllers(mounts: str | None = None) -> tuple[str, ...]:
    text = mounts if mounts is not None else Path("/proc/self/mounts").read_text()
    found: set[str] = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == "cgroup":
            found.update(o for o in fields[3].split(",") if o in _KNOWN_V1)
    return tuple(sorted(found))


_KNOWN_V1 = {
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "blkio",
    "pids",
    "hugetlb",
    "net_cls",
    "net_prio",
    "perf_event",
    "rdma",
    "misc",
}


def detect() -> HostFacts:
    return HostFacts(
        cgroup_version=cgroup_version(),
        systemd_init=systemd_is_init(),
        can_lower_oom_score_adj=can_lower_oom_score_adj(),
        has_cap_sys_resource=bool(capability_bounding_set() >> CAP_SYS_RESOURCE & 1),
        v1_controllers=mounted_v1_controllers(),
        is_root=os.geteuid() == 0,
    )
