"""The cluster directory on disk: its folders, certificates and every component's configuration."""

from __future__ import annotations

from pathlib import Path

from clusters.images import catalog
from clusters.local import certificates, render
from clusters.local.boot import Boot


def write(boot: Boot) -> None:
    cfg, lay = boot.cfg, boot.layout
    for d in (
        lay.root,
        lay.logs,
        lay.pids,
        lay.kubeconfigs,
        lay.containerd,
        lay.kubelet_root,
        lay.cni_conf_dir,
        lay.cni_ipam_dir,
        lay.etcd_data,
    ):
        d.mkdir(parents=True, exist_ok=True)
    for cdi in render.CDI_SPEC_DIRS:  # where containerd looks: drivers and tests may expect them to exist
        Path(cdi).mkdir(parents=True, exist_ok=True)
    lay.etcd_data.chmod(0o700)
    certificates.write(cfg, lay)
    lay.containerd_config.write_text(
        render.containerd_config(cfg, lay, boot.facts, str(boot.bins.runc), boot.bins.cni_bin_dir, catalog.PAUSE.ref)
    )
    (lay.cni_conf_dir / "10-drafarm.conflist").write_text(render.cni_conflist(cfg, lay))
    lay.kubelet_config.write_text(render.kubelet_config(cfg, lay, boot.facts, boot.gates))
    lay.resolv_conf.write_text(render.resolv_conf())
