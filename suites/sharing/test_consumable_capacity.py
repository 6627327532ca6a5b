"""Consumable capacity: claims take distinct shares of one GPU's memory, and a share is a hard limit."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = [
    pytest.mark.area("consumable-capacity"),
    pytest.mark.dra_gate("DRAConsumableCapacity"),
    pytest.mark.capability("consumableCapacity"),
    pytest.mark.needs_farm,
]
SHARE = 8 * 2**30
USE_SHARE = (
    "python3 -m fakedevices.client gpu-info; "
    "python3 -m fakedevices.client gpu-alloc 8Gi --free; "
    "python3 -m fakedevices.client gpu-alloc 9Gi; "
    "echo drafarm-holding; sleep 600"
)


def _wait_holding(dra: DraTest, pod: str) -> None:
    dra.wait.until(f"pod {pod} to use its share", lambda: "drafarm-holding" in dra.kube.logs(pod, dra.ns), 180, pod=pod)


def _memory_shared_gpu(dra: DraTest) -> tuple[str, str]:
    """(CEL selecting one memory-shared GPU of the farm, its device name): a GPU that takes several claims."""
    for device in dra.devices():
        if device.get("allowMultipleAllocations") and dra.attribute_of(device, "type") == "gpu":
            return f'device.attributes["drafarm.dev"].uuid == "{dra.attribute_of(device, "uuid")}"', device["name"]
    pytest.skip("the farm publishes no GPU that takes several claims (memorySharing)")


def test_two_claims_get_distinct_memory_shares_of_one_gpu(dra: DraTest) -> None:
    cel, shared = _memory_shared_gpu(dra)
    for name in ("first", "second"):
        dra.claim(name, b.request("gpu", dra.device_class("gpu"), cel=cel, capacity={"memory": "8Gi"}))
        dra.pod(name, USE_SHARE, claims={"gpu": name})
    for name in ("first", "second"):
        _wait_holding(dra, name)
    [first], [second] = dra.results("first"), dra.results("second")
    for result in (first, second):
        assert result["device"] == shared, f"a memory share should come from {shared}, got {result}"
        consumed = (result.get("consumedCapacity") or {}).get("memory")
        assert consumed == "8Gi", f"claim on {result['device']} consumed {consumed!r} of memory, not the 8Gi asked"
    assert first.get("shareID") and second.get("shareID"), (
        f"shares of a multi-allocatable device need a shareID: {first} {second}"
    )
    assert first["shareID"] != second["shareID"], f"two claims on {shared} got the same shareID {first['shareID']}"

    for name in ("first", "second"):
        logs = dra.kube.logs(name, dra.ns)
        info, fits, beyond = dra.json_lines(logs)[:3]
        assert info["session"].get("memory_bytes") == SHARE, (
            f"pod {name}'s GPU session has {info['session'].get('memory_bytes')} bytes, not its 8Gi share"
        )
        assert fits.get("ok") is True, f"pod {name} could not allocate its own 8Gi share: {fits}"
        assert beyond.get("ok") is False and "out of memory" in str(beyond.get("error")), (
            f"pod {name} allocated 9Gi beyond its 8Gi share: {beyond}"
        )
