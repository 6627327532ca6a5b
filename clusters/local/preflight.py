"""Before `up` starts anything: a host that can run a cluster, and every program it runs (built if missing)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from clusters.host import detect
from clusters.local import featuregates
from clusters.local.commands import Binaries
from clusters.local.components import SYSTEM_PATH
from clusters.local.config import LocalConfig
from clusters.provider import ClusterError, StepReporter
from clusters.toolchain import lookup

HOST_TOOLS = ("runc", "iptables", "ip", "mount", "umount")


def _which(tool: str) -> str | None:
    return shutil.which(tool, path=os.environ.get("PATH", "") + ":" + SYSTEM_PATH)


def host_facts(cfg: LocalConfig) -> detect.HostFacts:
    """What the host allows, once it is known to run this version's kubelet and containerd."""
    facts = detect.detect()
    if not facts.is_root:
        raise ClusterError("a local cluster runs a kubelet and containerd, which need root: run as root")
    if facts.cgroup_version == 1 and cfg.minor > featuregates.LAST_MINOR_ON_CGROUP_V1:
        raise ClusterError(
            f"Kubernetes {cfg.pins.kubernetes} does not start on cgroup v1 (this host); use "
            f"1.{featuregates.LAST_MINOR_ON_CGROUP_V1} or older, or a cgroup v2 host"
        )
    if facts.cgroup_version == 1:
        missing = [c for c in detect.REQUIRED_V1_CONTROLLERS if c not in facts.v1_controllers]
        if missing:
            raise ClusterError(f"cgroup v1 controllers {missing} are not mounted; mount them and retry")
    for tool in HOST_TOOLS:
        if _which(tool) is None:
            raise ClusterError(f"`{tool}` is not installed; run `make setup` as root (installs it)")
    return facts


def binaries(cfg: LocalConfig, step: StepReporter) -> Binaries:
    """The cluster's programs from the toolchain cache, building what is missing (each build reported)."""

    def report(module: str, binary: str, phase: str) -> None:
        if phase in ("built", "failed"):
            step(f"toolchain: {module}/{binary} {phase}")

    found = lookup.binaries(cfg.pins, build_missing=True, report=report)
    return Binaries(
        etcd=found["etcd"],
        kube_apiserver=found["kube-apiserver"],
        kube_controller_manager=found["kube-controller-manager"],
        kube_scheduler=found["kube-scheduler"],
        kubelet=found["kubelet"],
        kubectl=found["kubectl"],
        containerd=found["containerd"],
        ctr=found["ctr"],
        crictl=found["crictl"],
        cni_bin_dir=found["bridge"].parent,
        runc=Path(_which("runc") or "/usr/sbin/runc"),
    )
