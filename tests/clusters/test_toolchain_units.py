"""Toolchain pins and wrapper-module generation, without Go or a network."""

from __future__ import annotations

import pytest

from clusters.toolchain import components, gomod, versions

UPSTREAM = """\
// This is a generated file. Do not edit directly.
module k8s.io/kubernetes

go 1.26.0

godebug default=go1.26

require (
\tgithub.com/spf13/cobra v1.10.0
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
\tk8s.io/streaming v0.0.0 // indirect
)

require k8s.io/kubelet v0.0.0

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tk8s.io/kubelet => ./staging/src/k8s.io/kubelet
\tk8s.io/sample-controller => ./staging/src/k8s.io/sample-controller
\tk8s.io/streaming => ./staging/src/k8s.io/streaming
)
"""


def test_parse_reads_module_go_godebug_requires_and_staging() -> None:
    mod = gomod.parse(UPSTREAM)
    assert mod.module == "k8s.io/kubernetes"
    assert mod.go == "1.26.0"
    assert mod.godebug == ["default=go1.26"]
    assert mod.requires["k8s.io/kubelet"] == "v0.0.0"
    assert "k8s.io/streaming" in mod.staging_replaces


def test_kubernetes_wrapper_replaces_only_required_staging_modules() -> None:
    text = gomod.kubernetes_wrapper(gomod.parse(UPSTREAM), "v1.36.3", "example.test/wrapper")
    assert "require k8s.io/kubernetes v1.36.3" in text
    assert "godebug default=go1.26" in text
    assert "go 1.26.0" in text
    for module in ("k8s.io/api", "k8s.io/client-go", "k8s.io/kubelet", "k8s.io/streaming"):
        assert f"{module} => {module} v0.36.3" in text
    assert "sample-controller" not in text


def test_kubernetes_wrapper_rejects_other_modules() -> None:
    with pytest.raises(ValueError, match=r"expected the go\.mod of k8s\.io/kubernetes"):
        gomod.kubernetes_wrapper(gomod.parse("module example.com/x\n"), "v1.36.3", "w")


def test_staging_version_maps_minor_and_patch() -> None:
    assert gomod.staging_version("v1.34.4") == "v0.34.4"
    with pytest.raises(ValueError):
        gomod.staging_version("1.34.4")


@pytest.mark.parametrize(
    ("given", "expected"),
    [(None, "v1.37.2"), ("", "v1.37.2"), ("1.34", "v1.34.4"), ("v1.34.4", "v1.34.4"), ("1.36.3", "v1.36.3")],
)
def test_resolve_versions(given: str | None, expected: str) -> None:
    assert versions.resolve(given).kubernetes == expected


@pytest.mark.parametrize("bad", ["1.33", "v1.36.9", "banana", "2.0"])
def test_resolve_rejects_unpinned_versions_with_the_fix(bad: str) -> None:
    with pytest.raises(versions.VersionError, match=r"v1\.36\.3"):
        versions.resolve(bad)


def test_default_is_a_pinned_minor() -> None:
    assert versions.DEFAULT in versions.SUPPORTED
    assert versions.DEFAULT.minor == versions.DEFAULT_MINOR


def test_every_minor_from_1_34_to_1_37_is_pinned() -> None:
    assert sorted(p.minor for p in versions.SUPPORTED) == [34, 35, 36, 37]


def test_any_served_patch_release_keeps_its_minors_other_pins() -> None:
    served = ["v1.34.0", "v1.34.3", "v1.34.4", "v1.36.1", "v1.36.3"]
    pins = versions.resolve("1.34.3", served=lambda _wanted: served)
    pinned = versions.resolve("1.34")
    assert pins.kubernetes == "v1.34.3"
    assert (pins.etcd, pins.containerd, pins.crictl) == (pinned.etcd, pinned.containerd, pinned.crictl)
    assert versions.resolve("v1.36.1", served=lambda _wanted: served).kubernetes == "v1.36.1"


def test_a_release_the_proxy_does_not_serve_is_an_error_listing_those_it_does() -> None:
    served = ["v1.33.6", "v1.34.0", "v1.34.3", "v1.36.3"]
    with pytest.raises(versions.VersionError, match=r"not a release .* choose one of v1\.34\.0, v1\.34\.3, v1\.36\.3$"):
        versions.resolve("1.34.1", served=lambda _wanted: served)


def test_every_version_builds_every_cluster_binary() -> None:
    for pins in versions.SUPPORTED:
        mods = components.modules(pins)
        names = {b.name for m in mods for b in m.binaries}
        for needed in (
            "kube-apiserver",
            "kubelet",
            "etcd",
            "containerd",
            "containerd-shim-runc-v2",
            "ctr",
            "crictl",
            "bridge",
            "host-local",
            "kind",
            "kwok",
            "kubeadm",
        ):
            assert needed in names, (pins.kubernetes, needed)
        k8s = next(m for m in mods if m.name == "kubernetes")
        assert f"-X k8s.io/component-base/version.gitVersion={pins.kubernetes}" in k8s.ldflags
        ctd = next(m for m in mods if m.name == "containerd")
        assert set(ctd.tags) == {"no_btrfs", "no_zfs", "no_devmapper", "urfave_cli_no_docs"}


def test_unknown_module_is_named() -> None:
    with pytest.raises(ValueError, match="unknown toolchain component"):
        components.modules(versions.DEFAULT, ("nope",))


def test_the_upstream_dra_test_driver_is_built_with_kubernetes_but_not_needed_by_a_cluster() -> None:
    (k8s,) = components.modules(versions.DEFAULT, ("kubernetes",))
    driver = next(b for b in k8s.binaries if b.name == "dra-test-driver")
    assert driver.package == "k8s.io/kubernetes/test/e2e/dra/test-driver"
    assert not driver.for_cluster
    cluster = components.cluster_binaries_only(k8s)
    assert "dra-test-driver" not in {b.name for b in cluster.binaries}
    assert "kubelet" in {b.name for b in cluster.binaries}
    only = components.with_binary(k8s, "dra-test-driver")
    assert only.key == k8s.key and only.ldflags == k8s.ldflags
    assert [b.name for b in only.binaries] == ["dra-test-driver"]
    with pytest.raises(ValueError, match="builds no binary"):
        components.with_binary(k8s, "nope")
