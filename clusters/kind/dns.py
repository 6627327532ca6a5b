"""Cluster DNS on kind nodes: CoreDNS answers for the cluster only.

kubeadm's Corefile forwards other names to the node's resolv.conf, which on a docker network names
docker's resolver at 127.0.0.11; inside a pod that address is the pod's own loopback, so CoreDNS
finds itself upstream and exits ("Loop detected"). drafarm's pods never need outside names (nothing
is aimed at an outside address), so the Corefile drafarm installs has no upstream at all.
"""

from __future__ import annotations

import json

COREFILE = """\
.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    cache 30
    reload
    loadbalance
}
"""


def configmap_patch() -> str:
    """A merge patch for the `kube-system/coredns` ConfigMap."""
    return json.dumps({"data": {"Corefile": COREFILE}})
