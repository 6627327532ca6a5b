"""What the toolchain builds: wrapper modules, and the binaries each one produces.

A *module* is one wrapper Go module under `clusters/toolchain/modules/<name>-<version>/` that requires
an upstream module at a pinned version. A *binary* is one program built from it, with the arguments
that make it print its version (the check that it runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from clusters.toolchain.versions import ToolPins, minor_of

ETCD_MAIN = """\
// Command etcd runs the etcd server of the pinned go.etcd.io/etcd/server/v3 module.
// Written for drafarm: the server module has relative replaces, so it cannot be `go install`ed.
package main

import (
\t"os"

\t"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
"""

CNI_VERSION_STDIN = '{"cniVersion":"1.0.0"}'


@dataclass(frozen=True)
class Binary:
    name: str
    package: str
    version_args: tuple[str, ...]
    expect: str
    env: tuple[tuple[str, str], ...] = ()
    stdin: str = ""
    for_cluster: bool = True
    """False for a program built with the module that bringing a cluster up does not need."""


@dataclass(frozen=True)
class Module:
    """One wrapper module and the binaries built from it."""

    name: str
    version: str
    upstream: str
    requires: dict[str, str]
    binaries: tuple[Binary, ...]
    tags: tuple[str, ...] = ()
    ldflags: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    cgo: bool = False

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


def _k8s_ldflags(version: str) -> tuple[str, ...]:
    minor = minor_of(version)
    flags: list[str] = []
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor=1",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.gitCommit=drafarm-{version}",
            f"-X {pkg}.buildDate=1970-01-01T00:00:00Z",
        ]
    return tuple(flags)


def kubernetes(pins: ToolPins) -> Module:
    v = pins.kubernetes
    bare = v.lstrip("v")

    def cmd(name: str, *args: str) -> Binary:
        return Binary(name, f"k8s.io/kubernetes/cmd/{name}", args or ("--version",), bare)

    return Module(
        name="kubernetes",
        version=v,
        upstream="k8s.io/kubernetes",
        requires={"k8s.io/kubernetes": v},
        binaries=(
            cmd("kube-apiserver"),
            cmd("kube-controller-manager"),
            cmd("kube-scheduler"),
            cmd("kubelet"),
            cmd("kubectl", "version", "--client"),
            cmd("kubeadm", "version", "-o", "short"),
            # The upstream DRA test driver: a real third-party kubelet plugin for the project's own tests.
            # It has no version flag; its help must list its `kubelet-plugin` command.
            Binary(
                "dra-test-driver",
                "k8s.io/kubernetes/test/e2e/dra/test-driver",
                ("--help",),
                "kubelet-plugin",
                for_cluster=False,
            ),
            # For the kind node image's kube-proxy image; the local provider runs no kube-proxy.
            Binary("kube-proxy", "k8s.io/kubernetes/cmd/kube-proxy", ("--version",), bare, for_cluster=False),
        ),
        ldflags=_k8s_ldflags(v),
    )


def etcd(pins: ToolPins) -> Module:
    v = pins.etcd
    bare = v.lstrip("v")
    return Module(
        name="etcd",
        version=v,
        upstream="go.etcd.io/etcd/server/v3",
        requires={"go.etcd.io/etcd/server/v3": v, "go.etcd.io/etcd/etcdctl/v3": v},
        binaries=(
            Binary("etcd", ".", ("--version",), bare),
            Binary("etcdctl", "go.etcd.io/etcd/etcdctl/v3", ("version",), bare),
        ),
        sources={"main.go": ETCD_MAIN},
    )


def _of_one_upstream(
    name: str,
    version: str,
    upstream: str,
    binaries: tuple[Binary, ...],
    *,
    tags: tuple[str, ...] = (),
    ldflags: tuple[str, ...] = (),
) -> Module:
    """A module whose binaries all come from one upstream Go module, at the module's own version."""
    return Module(name, version, upstream, {upstream: version}, binaries, tags=tags, ldflags=ldflags)


def _one_binary(
    name: str, version: str, upstream: str, package: str, version_args: tuple[str, ...], expect: str, ldflag: str = ""
) -> Module:
    """A module of one upstream Go module that builds one binary, `name`."""
    binary = Binary(name, package, version_args, expect)
    return _of_one_upstream(name, version, upstream, (binary,), ldflags=(ldflag,) if ldflag else ())


def containerd(pins: ToolPins) -> Module:
    v = pins.containerd
    base = "github.com/containerd/containerd/v2"
    return _of_one_upstream(
        "containerd",
        v,
        base,
        (
            Binary("containerd", f"{base}/cmd/containerd", ("--version",), v),
            Binary("containerd-shim-runc-v2", f"{base}/cmd/containerd-shim-runc-v2", ("-v",), v),
            Binary("ctr", f"{base}/cmd/ctr", ("--version",), v),
        ),
        tags=("no_btrfs", "no_zfs", "no_devmapper", "urfave_cli_no_docs"),
        ldflags=(
            f"-X {base}/version.Version={v}",
            f"-X {base}/version.Revision=drafarm-{v}",
            f"-X {base}/version.Package={base}",
        ),
    )


def cni_plugins(pins: ToolPins) -> Module:
    v = pins.cni_plugins
    base = "github.com/containernetworking/plugins"
    env = (("CNI_COMMAND", "VERSION"),)

    def plugin(name: str, kind: str) -> Binary:
        return Binary(name, f"{base}/plugins/{kind}/{name}", (), "supportedVersions", env, CNI_VERSION_STDIN)

    return _of_one_upstream(
        "cni-plugins",
        v,
        base,
        (
            plugin("bridge", "main"),
            plugin("loopback", "main"),
            plugin("host-local", "ipam"),
            plugin("portmap", "meta"),
        ),
        ldflags=(f"-X {base}/pkg/utils/buildversion.BuildVersion={v}",),
    )


def crictl(pins: ToolPins) -> Module:
    v, base = pins.crictl, "sigs.k8s.io/cri-tools"
    return _one_binary("crictl", v, base, f"{base}/cmd/crictl", ("--version",), "crictl",
                       f"-X {base}/pkg/version.Version={v}")  # fmt: skip


def kind(pins: ToolPins) -> Module:
    v = pins.kind
    return _one_binary("kind", v, "sigs.k8s.io/kind", "sigs.k8s.io/kind", ("version",), v.lstrip("v"))


def kwok(pins: ToolPins) -> Module:
    v, base = pins.kwok, "sigs.k8s.io/kwok"
    return _one_binary("kwok", v, base, f"{base}/cmd/kwok", ("--version",), "kwok", f"-X {base}/pkg/consts.Version={v}")


def coredns(pins: ToolPins) -> Module:
    v, base = pins.coredns, "github.com/coredns/coredns"
    return _one_binary("coredns", v, base, base, ("-version",), "CoreDNS-" + v.lstrip("v"),
                       f"-X {base}/coremain.GitCommit=drafarm-{v}")  # fmt: skip


# Build order: the small runtime pieces first (quick feedback), then Kubernetes, then kind/kwok,
# which only the kind provider and scale tests need.
CLUSTER_MODULES = ("etcd", "containerd", "cni-plugins", "crictl", "kubernetes")
EXTRA_MODULES = ("kind", "kwok")
# Built on demand by `drafarm images build-node` (clusters/images/node), not by `toolchain build`.
NODE_IMAGE_MODULES = ("coredns",)

_FACTORIES = {
    "etcd": etcd,
    "containerd": containerd,
    "cni-plugins": cni_plugins,
    "crictl": crictl,
    "kubernetes": kubernetes,
    "kind": kind,
    "kwok": kwok,
    "coredns": coredns,
}


def cluster_binaries_only(module: Module) -> Module:
    """`module` without the binaries a cluster does not need (built on demand, not by `up`)."""
    return replace(module, binaries=tuple(b for b in module.binaries if b.for_cluster))


def with_binary(module: Module, name: str) -> Module:
    """`module` reduced to its binary `name` (same key: same cache, lock and wrapper module)."""
    found = tuple(b for b in module.binaries if b.name == name)
    if not found:
        raise ValueError(f"module {module.key} builds no binary {name!r}")
    return replace(module, binaries=found)


def modules(pins: ToolPins, names: tuple[str, ...] = CLUSTER_MODULES + EXTRA_MODULES) -> list[Module]:
    unknown = [n for n in names if n not in _FACTORIES]
    if unknown:
        raise ValueError(f"unknown toolchain component(s) {unknown}; choose from {sorted(_FACTORIES)}")
    return [_FACTORIES[n](pins) for n in names]
