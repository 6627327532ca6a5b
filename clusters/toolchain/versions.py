"""Pinned versions: one entry per supported Kubernetes minor, newest first.

Any other patch release of a pinned minor that the Go module proxy serves is accepted too: its
Kubernetes comes from that release, everything else from its minor's pins (`clusters/toolchain/released.py`
asks the proxy which releases exist).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

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


def _pinned(kubernetes: str, coredns: str) -> ToolPins:
    """One minor's pins: its own Kubernetes and CoreDNS, and the companion tools every minor builds with today
    (give a minor its own value here when one stops building with the others)."""
    return ToolPins(
        kubernetes=kubernetes,
        etcd="v3.6.16",
        containerd="v2.2.9",
        cni_plugins="v1.9.1",
        crictl="v1.36.0",
        kind="v0.33.0",
        kwok="v0.8.0",
        coredns=coredns,
    )


SUPPORTED: tuple[ToolPins, ...] = (
    _pinned("v1.37.2", coredns="v1.14.6"),
    _pinned("v1.36.3", coredns="v1.14.2"),
    _pinned("v1.35.4", coredns="v1.13.1"),
    _pinned("v1.34.4", coredns="v1.12.1"),
)

DEFAULT_MINOR = 37
"""The minor a cluster gets when none is asked for; the newest one that ran the smoke suites here."""


_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")
_RELEASE_RE = re.compile(r"^v1\.(\d+)\.\d+$")


class VersionError(ValueError):
    """A Kubernetes version that drafarm does not pin."""


def minor_of(version: str) -> int:
    match = _VERSION_RE.match(version.strip())
    if not match:
        raise VersionError(f"k8s version {version!r} is not a version; use the form 1.36 or v1.36.3")
    return int(match.group(2))


def supported_list() -> str:
    return ", ".join(p.kubernetes for p in SUPPORTED)


def resolve(version: str | None, served: Callable[[str], list[str]] | None = None) -> ToolPins:
    """Pins for `version` ("1.34", "v1.34", "1.34.4", "v1.34.4"); None or "" means the default.

    A patch release that is not pinned is accepted when `served` (default: the module proxy's list,
    `released.served_versions`) names it; it keeps the other components of its minor's pins.
    """
    if version is None or not version.strip():
        return DEFAULT
    text = version.strip()
    match = _VERSION_RE.match(text)
    if not match:
        raise VersionError(
            f"k8s version {text!r} is not a version; use the form 1.36 or v1.36.3 (supported: {supported_list()})"
        )
    major, minor, patch = match.group(1), int(match.group(2)), match.group(3)
    pins = next((p for p in SUPPORTED if major == "1" and p.minor == minor), None)
    if pins is None:
        raise VersionError(
            f"k8s version {text!r} is of a minor drafarm does not pin; choose a release of "
            f"{', '.join(f'1.{p.minor}' for p in SUPPORTED)} (pinned: {supported_list()}), "
            f"or add an entry to clusters/toolchain/versions.py"
        )
    wanted = f"v1.{minor}.{patch}"
    if patch is None or pins.kubernetes == wanted:
        return pins
    if served is None:
        from clusters.toolchain.released import served_versions

        served = served_versions
    releases = served(wanted)
    if wanted not in releases:
        ours = [v for v in releases if minor_of_or_none(v) in {p.minor for p in SUPPORTED}]
        raise VersionError(
            f"k8s version {text!r} is not a release of k8s.io/kubernetes served by the Go module proxy; "
            f"choose one of {', '.join(ours) or '(none served)'}"
        )
    return replace(pins, kubernetes=wanted)


def minor_of_or_none(version: str) -> int | None:
    match = _RELEASE_RE.match(version)
    return int(match.group(1)) if match else None


DEFAULT = next(p for p in SUPPORTED if p.minor == DEFAULT_MINOR)
