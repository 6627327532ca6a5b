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


def test_partitions_wait_for_the_counters_they_need(dra: DraTest) -> None:
    # gpu-1 has 7 compute slices: three 2g partitions take 6, so two 1g partitions (2 more) cannot fit.
    dra.claim("big", b.request("parts", dra.device_class("partition"), count=3, cel=_on_gpu_1("2g-10gb")))
    dra.pod("holder", HOLD, claims={"parts": "big"})
    dra.wait.pod_running("holder", timeout=180)
    held = dra.results("big")
    assert len(held) == 3 and all(r["device"].startswith("gpu-1-2g-10gb-") for r in held), held

    dra.claim("small", b.request("parts", dra.device_class("partition"), count=2, cel=_on_gpu_1("1g-5gb")))
    dra.pod("waiter", "true", claims={"parts": "small"})
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
    assert len(got) == 2 and all(r["device"].startswith("gpu-1-1g-5gb-") for r in got), (
        f"once gpu-1's counters were free, claim small should get two 1g-5gb partitions of gpu-1, got {got}"
    )
