"""How a GPU is shared, set by the claim's opaque GpuConfig, is what the container gets."""

from __future__ import annotations

from typing import Any

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = [pytest.mark.area("gpu-config"), pytest.mark.capability("sharing"), pytest.mark.needs_farm]
GPU_0 = 'device.attributes["drafarm.dev"].index == 0'
SHOW = "env | grep '^DRAFARM_GPU_.*_SHARING='; python3 -m fakedevices.client gpu-info"


def _gpu_config(sharing: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "drafarm.dev/v1alpha1", "kind": "GpuConfig", "sharing": sharing}


def _run_with_config(dra: DraTest, sharing: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Run a pod on gpu-0 with the given sharing config; its SHARING env value and gpu-info session."""
    dra.claim(
        "gpu",
        b.request("gpu", dra.device_class("gpu"), cel=GPU_0),
        config=[b.opaque(dra.driver, _gpu_config(sharing))],
    )
    logs = dra.run("show", SHOW, claims={"gpu": "gpu"}, timeout=180)
    env = [line.split("=", 1)[1] for line in logs.splitlines() if "_SHARING=" in line]
    assert len(env) == 1, f"expected one DRAFARM_GPU_*_SHARING variable in the container:\n{logs}"
    [info] = dra.json_lines(logs)
    assert info.get("ok") is True, f"gpu-info failed in the container: {info}"
    return env[0], dict(info["session"])


@pytest.mark.smoke
def test_time_slicing_config_reaches_the_container(dra: DraTest) -> None:
    env, session = _run_with_config(dra, {"strategy": "TimeSlicing", "timeSlicing": {"interval": "Short"}})
    assert env == "TimeSlicing/Short", f"the container's sharing env says {env!r}, not the claim's TimeSlicing/Short"
    assert session.get("sharing") == "time-sliced" and session.get("time_slice") == "short", (
        f"the GPU session the container talks to is not time-sliced with the Short interval: {session}"
    )


def test_space_partitioning_config_reaches_the_container(dra: DraTest) -> None:
    env, session = _run_with_config(dra, {"strategy": "SpacePartitioning", "spacePartitioning": {"partitionCount": 4}})
    assert env == "SpacePartitioning/4", f"the container's sharing env says {env!r}, not SpacePartitioning/4"
    assert session.get("sharing") == "partition" and session.get("partition") == "space-4", (
        f"the GPU session the container talks to is not a space partition of 4: {session}"
    )


def _whole_gpu(dra: DraTest) -> str:
    """CEL for one GPU that takes a single claim (not memory-shared), by its UUID."""
    for device in sorted(dra.devices(), key=lambda d: (d["pool"], d["name"])):
        if dra.attribute_of(device, "type") == "gpu" and not device.get("allowMultipleAllocations"):
            return f'device.attributes["drafarm.dev"].uuid == "{dra.attribute_of(device, "uuid")}"'
    pytest.skip("every GPU of the farm is memory-shared")


def test_without_config_the_gpu_is_exclusive(dra: DraTest) -> None:
    dra.claim("gpu", b.request("gpu", dra.device_class("gpu"), cel=_whole_gpu(dra)))
    logs = dra.run("show", SHOW, claims={"gpu": "gpu"}, timeout=180)
    assert "_SHARING=Exclusive" in logs, f"a claim without GpuConfig should get an exclusive GPU:\n{logs}"
    [info] = dra.json_lines(logs)
    assert info["session"].get("sharing") == "exclusive", f"session is not exclusive: {info['session']}"
