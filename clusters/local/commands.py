"""The command line of every component of a local cluster (pure: unit-tested without a cluster)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clusters.local import featuregates
from clusters.local.config import LocalConfig
from clusters.local.layout import Layout


@dataclass(frozen=True)
class Binaries:
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kubelet: Path
    kubectl: Path
    containerd: Path
    ctr: Path
    crictl: Path
    cni_bin_dir: Path
    runc: Path


def etcd(cfg: LocalConfig, layout: Layout, b: Binaries) -> list[str]:
    client = f"http://127.0.0.1:{cfg.ports.etcd_client}"
    peer = f"http://127.0.0.1:{cfg.ports.etcd_peer}"
    return [
        str(b.etcd),
        f"--name={cfg.name}",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster={cfg.name}={peer}",
        "--listen-metrics-urls=",
        "--quota-backend-bytes=2147483648",
        "--unsafe-no-fsync=true",
        "--log-level=warn",
    ]


def kube_apiserver(cfg: LocalConfig, layout: Layout, b: Binaries, gates: dict[str, bool]) -> list[str]:
    pki = layout.pki
    return [
        str(b.kube_apiserver),
        f"--etcd-servers=http://127.0.0.1:{cfg.ports.etcd_client}",
        f"--bind-address={cfg.node_ip}",
        f"--advertise-address={cfg.node_ip}",
        f"--secure-port={cfg.ports.apiserver}",
        f"--service-cluster-ip-range={cfg.service_cidr}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=true",
        f"--runtime-config={featuregates.runtime_config()}",
        f"--feature-gates={featuregates.gates_flag(gates)}",
        "--profiling=false",
        "--v=1",
    ]


API_RATE_FLAGS = ("--kube-api-qps=200", "--kube-api-burst=400")
"""The controller manager's and the scheduler's client-side limits on the API server. Their defaults (20/30
and 50/100) make the resourceclaim controller create claims from templates at about 20 per second, which,
not the scheduler, then bounds how fast pods with claims start; one cluster on one host needs no such
guard (the API server's priority and fairness still applies)."""


def kube_controller_manager(cfg: LocalConfig, layout: Layout, b: Binaries, gates: dict[str, bool]) -> list[str]:
    kubeconfig = layout.kubeconfigs / "controller-manager.conf"
    pki = layout.pki
    return [
        str(b.kube_controller_manager),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={cfg.ports.controller_manager}",
        f"--cert-dir={layout.root / 'controller-manager'}",
        f"--root-ca-file={pki / 'ca.crt'}",
        f"--cluster-signing-cert-file={pki / 'ca.crt'}",
        f"--cluster-signing-key-file={pki / 'ca.key'}",
        f"--service-account-private-key-file={pki / 'sa.key'}",
        f"--service-cluster-ip-range={cfg.service_cidr}",
        "--use-service-account-credentials=true",
        "--leader-elect=false",
        *API_RATE_FLAGS,
        f"--feature-gates={featuregates.gates_flag(gates)}",
        "--profiling=false",
        "--v=1",
    ]


def kube_scheduler(cfg: LocalConfig, layout: Layout, b: Binaries, gates: dict[str, bool]) -> list[str]:
    kubeconfig = layout.kubeconfigs / "scheduler.conf"
    return [
        str(b.kube_scheduler),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={cfg.ports.scheduler}",
        f"--cert-dir={layout.root / 'scheduler'}",
        "--leader-elect=false",
        *API_RATE_FLAGS,
        f"--feature-gates={featuregates.gates_flag(gates)}",
        "--profiling=false",
        "--v=1",
    ]


def containerd(layout: Layout, b: Binaries) -> list[str]:
    return [str(b.containerd), f"--config={layout.containerd_config}", "--log-level=info"]


def kubelet(cfg: LocalConfig, layout: Layout, b: Binaries) -> list[str]:
    return [
        str(b.kubelet),
        f"--config={layout.kubelet_config}",
        f"--kubeconfig={layout.kubeconfigs / 'kubelet.conf'}",
        f"--root-dir={layout.kubelet_root}",
        f"--hostname-override={cfg.node_name}",
        f"--node-ip={cfg.node_ip}",
        "--v=2",
    ]
