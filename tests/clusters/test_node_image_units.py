"""The kind node image's files: what kind reads from a node (containerd config, /kind/version, the line
it waits for), scripts that bash accepts, and the image names the real kubeadm asks for."""

from __future__ import annotations

import subprocess
import tomllib

import pytest

from clusters.images.node import controlplane, files
from clusters.toolchain import builder, components, versions


def _files() -> dict[str, files.NodeFile]:
    return {f.path: f for f in files.node_files("v1.36.3", "registry.k8s.io/pause:3.10.2")}


def test_containerd_config_names_what_kind_and_the_kubelet_need() -> None:
    conf = tomllib.loads(_files()["/etc/containerd/config.toml"].content)
    assert conf["version"] == 3
    plugins = conf["plugins"]
    images = plugins["io.containerd.cri.v1.images"]
    assert images["snapshotter"] == "overlayfs"  # kind's `load image-archive` reads it
    assert images["pinned_images"]["sandbox"] == "registry.k8s.io/pause:3.10.2"
    runtime = plugins["io.containerd.cri.v1.runtime"]
    assert runtime["enable_cdi"] is True and "/var/run/cdi" in runtime["cdi_spec_dirs"]
    assert runtime["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    assert "restrict_oom_score_adj" not in runtime  # host-specific: patched in at `up` only where needed


def test_scripts_parse_and_the_entrypoint_prints_the_line_kind_waits_for() -> None:
    node = _files()
    assert node["/kind/version"].content == "v1.36.3\n"
    entrypoint = node[files.ENTRYPOINT]
    assert entrypoint.mode == 0o755
    assert "detected cgroup v1" in entrypoint.content and 'exec "$@"' in entrypoint.content
    for script in (f for f in node.values() if f.content.startswith("#!/bin/bash")):
        proc = subprocess.run(["bash", "-n"], input=script.content, capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, (script.path, proc.stderr)


def test_kubelet_waits_for_the_image_import() -> None:
    unit = _files()["/etc/systemd/system/kubelet.service"].content
    assert "After=containerd.service drafarm-import-images.service" in unit
    assert "ConditionPathExists=/var/lib/kubelet/config.yaml" in unit


def test_the_real_kubeadm_names_the_images_and_coredns_matches_the_pin() -> None:
    pins = versions.DEFAULT
    (k8s,) = components.modules(pins, ("kubernetes",))
    kubeadm = builder.binary_path(k8s, next(b for b in k8s.binaries if b.name == "kubeadm"))
    if not kubeadm.is_file():
        pytest.skip(f"kubeadm {pins.kubernetes} is not built (drafarm toolchain build)")
    expected = controlplane.expected_images(kubeadm, pins.kubernetes)
    assert expected.ref("kube-apiserver") == f"registry.k8s.io/kube-apiserver:{pins.kubernetes}"
    assert controlplane.tag_of(expected.ref("coredns")) == pins.coredns
    assert {"etcd", "pause", "kube-proxy", "coredns"} <= set(expected.refs)
    with pytest.raises(controlplane.ControlPlaneImageError, match="names no"):
        expected.ref("nope")
