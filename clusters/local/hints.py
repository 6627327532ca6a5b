"""Turning a failed component's log into the likely fix."""

from __future__ import annotations

from pathlib import Path

from clusters.log_tail import log_tail

_HINTS: tuple[tuple[str, str], ...] = (
    (
        "address already in use",
        "another process holds this port: stop it, or set the DRAFARM_*_PORT variable",
    ),
    (
        "unrecognized feature gate",
        "the feature-gate list does not match this version: fix clusters/local/featuregates.py",
    ),
    ("failCgroupV1", "this kubelet refuses cgroup v1: set failCgroupV1: false (drafarm does on v1 hosts)"),
    ("cgroup v1 support", "this kubelet refuses cgroup v1: use a host with cgroup v2, or Kubernetes <= 1.37"),
    (
        "oom_score_adj",
        "the host forbids negative oom_score_adj: containerd needs restrict_oom_score_adj = true",
    ),
    ("operation not permitted", "a privileged operation failed: run as root on a host that allows it"),
    ("permission denied", "a file or socket is not accessible: run as root, check the cluster directory"),
    (
        "no such file or directory",
        "a binary or file is missing: run `drafarm toolchain build` and `make setup`",
    ),
    ("failed to find subsystem mount", "a cgroup controller is not mounted: mount it (see machine.md)"),
    ("image", "the sandbox image is missing: `drafarm cluster up` imports it; check containerd's log"),
    ("x509", "a certificate problem: remove the cluster directory (`drafarm cluster down`) and retry"),
)


def tail(path: Path, lines: int = 25) -> str:
    return log_tail(path, lines, f"(no log at {path})")


def likely_fix(log_text: str) -> str:
    lowered = log_text.lower()
    for needle, fix in _HINTS:
        if needle.lower() in lowered:
            return fix
    return "read the log above; `drafarm cluster down` cleans up, then retry `drafarm cluster up`"


def explain(log: Path) -> str:
    """The last lines of a component's log and the fix they suggest, for an error message."""
    text = tail(log)
    return f"--- last lines of {log.name} ---\n{text}\n--- likely fix: {likely_fix(text)}"
