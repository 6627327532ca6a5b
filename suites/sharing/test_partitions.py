"""Partitions carved from one GPU's shared counters are never oversubscribed."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = [
    pytest.mark.area("partitions"),
    pytest.mark.dra_gate("DRAPartitionableDevices"),
    pytest.mark.capability("partitions"),
    pytest.mark.needs_farm,
]
HOLD = "echo drafarm-holding; sleep 600"


def _on_gpu_1(profile: str) -> str:
    return f'device.attributes["drafarm.dev"].profile == "{profile}" && device.attributes["drafarm.dev"].index == 1'


def _gpu_1_profiles(dra: DraTest) -> tuple[str, str, str]:
    """(a node, its gpu-1's 2-compute partition profile, its 1-compute one)."""
    for pool in sorted({d["pool"] for d in dra.devices()}):
        computes = {
            int(str(((d.get("capacity") or {}).get("compute") or {}).get("value", "0"))): dra.attribute_of(d, "profile")
            for d in dra.devices(pool)
            if dra.attribute_of(d, "type") == "partition" and dra.attribute_of(d, "index") == 1
        }
        if 1 in computes and 2 in computes:
            return pool, str(computes[2]), str(computes[1])
    pytest.skip("no node's gpu-1 publishes 1g and 2g partitions")


def test_partitions_wait_for_the_counters_they_need(dra: DraTest) -> None:
    # gpu-1 has 7 compute slices: three 2g partitions take 6, so two 1g partitions (2 more) cannot fit.
    # Both pods stay on one node: another node's gpu-1 would fit them.
    node, two, one = _gpu_1_profiles(dra)
    dra.claim("big", b.request("parts", dra.device_class("partition"), count=3, cel=_on_gpu_1(two)))
    dra.pod("holder", HOLD, claims={"parts": "big"}, on_node=node)
    dra.wait.pod_running("holder", timeout=180)
    held = dra.results("big")
    assert len(held) == 3 and all(r["device"].startswith(f"gpu-1-{two}-") for r in held), held

    dra.claim("small", b.request("parts", dra.device_class("partition"), count=2, cel=_on_gpu_1(one)))
    dra.pod("waiter", "true", claims={"parts": "small"}, on_node=node)
    event = dra.wait.event("waiter", "FailedScheduling", "", 90)
    message = str(event.get("message", ""))
    assert "claim" in message.lower() or "device" in message.lower(), (
        f"the scheduler's reason for not placing pod waiter does not mention claims or devices: {message}"
    )
    assert not dra.results("small"), (
        f"claim small got {dra.results('small')} although gpu-1's counters are used by {held}: partitions "
        "oversubscribed their GPU's shared counters"
    )
    assert ((dra.get("Pod", "waiter") or {}).get("status") or {}).get("phase") == "Pending"

    dra.kube.delete("Pod", "holder", dra.ns, grace=0)
    dra.wait.gone("Pod", "holder", 120)
    dra.kube.delete("ResourceClaim", "big", dra.ns)
    dra.wait.gone("ResourceClaim", "big", 60)
    allocated = dra.wait.claim_allocated("small", timeout=180)
    dra.wait.pod_succeeded("waiter", timeout=180)
    got = allocated["status"]["allocation"]["devices"]["results"]
    assert len(got) == 2 and all(r["device"].startswith(f"gpu-1-{one}-") for r in got), (
        f"once gpu-1's counters were free, claim small should get two {one} partitions of gpu-1, got {got}"
    )
