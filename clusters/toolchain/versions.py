"""Pinned versions: one entry per supported Kubernetes minor, newest released minor first (the default)."""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION_ENV = "K8S_VERSION"


@dataclass(frozen=True)
class ToolPins:
    """The versions of every program a cluster of one Kubernetes version is built from."""

    kubernetes: str
    etcd: str
    containerd: str
    cni_plugins: str
    crictl: str
    kind: str
    kwok: str
    coredns: str = ""
    """CoreDNS for the kind node image: the version this minor's kubeadm deploys."""

    @property
    def minor(self) -> int:
        return minor_of(self.kubernetes)


SUPPORTED: tuple[ToolPins, ...] = (
    ToolPins(
        kubernetes="v1.36.3",
        etcd="v3.6.16",
        containerd="v2.2.9",
        cni_plugins="v1.9.1",
        crictl="v1.36.0",
        kind="v0.33.0",
        kwok="v0.8.0",
        coredns="v1.14.2",
    ),
    ToolPins(
        kubernetes="v1.34.4",
        etcd="v3.6.16",
        containerd="v2.2.9",
        cni_plugins="v1.9.1",
        crictl="v1.36.0",
        kind="v0.33.0",
        kwok="v0.8.0",
        coredns="v1.12.1",
    ),
)

DEFAULT = SUPPORTED[0]

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")


class VersionError(ValueError):
    """A Kubernetes version that drafarm does not pin."""


def minor_of(version: str) -> int:
    match = _VERSION_RE.match(version.strip())
    if not match:
        raise VersionError(f"k8s version {version!r} is not a version; use the form 1.36 or v1.36.3")
    return int(match.group(2))


def supported_list() -> str:
    return ", ".join(p.kubernetes for p in SUPPORTED)


def resolve(version: str | None) -> ToolPins:
    """Pins for `version` ("1.34", "v1.34", "1.34.4", "v1.34.4"); None or "" means the default."""
    if version is None or not version.strip():
        return DEFAULT
    text = version.strip()
    match = _VERSION_RE.match(text)
    if not match:
        raise VersionError(
            f"k8s version {text!r} is not a version; use the form 1.36 or v1.36.3 (supported: {supported_list()})"
        )
    major, minor, patch = match.group(1), int(match.group(2)), match.group(3)
    for pins in SUPPORTED:
        if major != "1" or pins.minor != minor:
            continue
        if patch is None or pins.kubernetes == f"v1.{minor}.{patch}":
            return pins
    raise VersionError(
        f"k8s version {text!r} is not pinned by drafarm; choose one of {supported_list()} "
        f"(or add an entry to clusters/toolchain/versions.py)"
    )
