"""The cluster's certificates and the kubeconfig of each client: who is who, signed by the cluster's CA
(pki.py makes the keys and certificates; an existing one is kept)."""

from __future__ import annotations

from clusters.local import pki, render
from clusters.local.config import LocalConfig
from clusters.local.layout import Layout

KUBERNETES_DNS_NAMES = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "localhost",
)


def servers(cfg: LocalConfig) -> tuple[pki.Identity, ...]:
    """The API server's serving certificate, the kubelet's, and the API server's client certificate for
    the kubelet."""
    return (
        pki.Identity(
            "apiserver",
            "kube-apiserver",
            dns_names=(*KUBERNETES_DNS_NAMES, cfg.node_name),
            ip_addresses=(cfg.node_ip, cfg.kubernetes_service_ip, "127.0.0.1"),
            server=True,
        ),
        pki.Identity(
            "kubelet-serving",
            f"system:node:{cfg.node_name}",
            organizations=("system:nodes",),
            dns_names=(cfg.node_name,),
            ip_addresses=(cfg.node_ip,),
            server=True,
        ),
        pki.Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("system:masters",)),
    )


def clients(cfg: LocalConfig) -> dict[str, pki.Identity]:
    """Each client of the API server by the name of its kubeconfig (`kubeconfig/<name>.conf`)."""
    return {
        "admin": pki.Identity("admin", "kubernetes-admin", ("system:masters",)),
        "controller-manager": pki.Identity("controller-manager", "system:kube-controller-manager"),
        "scheduler": pki.Identity("scheduler", "system:kube-scheduler"),
        "kubelet": pki.Identity("kubelet", f"system:node:{cfg.node_name}", ("system:nodes",)),
    }


def write(cfg: LocalConfig, layout: Layout) -> None:
    """The CA, the service-account keys, the servers' certificates, and a kubeconfig per client."""
    ca = pki.ensure_ca(layout.pki)
    pki.ensure_service_account_keys(layout.pki)
    for identity in servers(cfg):
        pki.issue(layout.pki, ca, identity)
    for conf, identity in clients(cfg).items():
        crt, key = pki.issue(layout.pki, ca, identity)
        path = layout.kubeconfigs / f"{conf}.conf"
        path.write_text(render.kubeconfig(cfg, layout.pki / "ca.crt", crt, key, identity.common_name))
        path.chmod(0o600)
