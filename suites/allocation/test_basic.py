"""One device, several devices, All mode; devices come back for reuse once their pods go."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = pytest.mark.area("basic")


@pytest.mark.smoke
def test_one_device(dra: DraTest) -> None:
    dra.claim("one", b.request("gpu", dra.device_class("gpu")))
    logs = dra.run("single", dra.proof_script(), claims={"gpu": "one"})
    [result] = dra.results("one")
    assert result["driver"] == dra.driver
    assert "drafarm-proof-ok" in logs


def test_several_devices_are_distinct_and_all_visible(dra: DraTest) -> None:
    dra.claim("two", b.request("gpus", dra.device_class("gpu"), count=2))
    logs = dra.run("pair", "env | grep '^DRAFARM_GPU_.*_UUID=' | sort", claims={"gpus": "two"})
    results = dra.results("two")
    assert len({(r["pool"], r["device"]) for r in results}) == 2
    uuids = {dra.attribute(r["pool"], r["device"], "uuid") for r in results}
    assert {line.split("=", 1)[1] for line in logs.splitlines() if "=" in line} == uuids


def test_all_mode_takes_every_matching_device(dra: DraTest) -> None:
    cel = 'device.attributes["drafarm.dev"].profile == "1g-5gb" && device.attributes["drafarm.dev"].index == 2'
    dra.claim("all", b.request("parts", dra.device_class("partition"), all_devices=True, cel=cel))
    dra.run("everything", "true", claims={"parts": "all"})
    devices = sorted(r["device"] for r in dra.results("all"))
    assert devices == [f"gpu-2-1g-5gb-{i}" for i in range(7)]


def test_released_devices_are_reusable(dra: DraTest) -> None:
    cel = 'device.attributes["drafarm.dev"].index == 0'
    dra.claim("first", b.request("gpu", dra.device_class("gpu"), cel=cel))
    dra.run("first-user", "true", claims={"gpu": "first"})
    first = dra.results("first")
    dra.kube.delete("Pod", "first-user", dra.ns, grace=0)
    dra.wait.gone("Pod", "first-user")
    dra.kube.delete("ResourceClaim", "first", dra.ns)
    dra.wait.gone("ResourceClaim", "first")
    dra.claim("second", b.request("gpu", dra.device_class("gpu"), cel=cel))
    dra.run("second-user", "true", claims={"gpu": "second"})
    assert [r["device"] for r in dra.results("second")] == [r["device"] for r in first] == ["gpu-0"]
