"""The driver DaemonSet rolls on a real kind cluster while pods with claims start: none may fail.

Opt-in (DRAFARM_KIND_E2E=1): it brings up a kind cluster of its own. It failed before issue 14's change
(containers started in the moment the old driver pod handed its session sockets to the new one found no
socket, `cannot connect to device socket .../session.sock`, and prepares sent to the old pod's socket
after it stopped waited out the kubelet's backoff); tests/plugin/test_upgrade_switch.py shows the fix
without a cluster, this test is to confirm it on kind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clusters.kind.provider import KindProvider
from fakedevices.farm import open_farm
from tests.clusters.kind_rollout import roll_the_driver_while_pods_start

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("DRAFARM_KIND_E2E"), reason="kind e2e is opt-in: DRAFARM_KIND_E2E=1"),
    pytest.mark.skipif(os.geteuid() != 0, reason="drafarm's dockerd and debootstrap need root"),
]
FARM = Path(__file__).parent / "farms" / "kind-pair.yaml"


def test_no_pod_with_a_claim_fails_while_the_driver_daemonset_rolls() -> None:
    provider = KindProvider(cluster_name="drafarm-roll", workers=2)
    provider.down()
    try:
        provider.up()
        provider.deploy_farm(open_farm(str(FARM)))
        rolled = roll_the_driver_while_pods_start(provider)
    finally:
        provider.down()
    assert rolled["driver_pods_replaced"] and rolled["steady_same_container"] and rolled["steady_uses_its_gpu"], rolled
    assert len(rolled["started"]) >= 3 and set(rolled["started"].values()) == {"Succeeded"}, rolled
