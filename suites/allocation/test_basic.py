"""One device, several devices, All mode; devices come back for reuse once their pods go."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest
from harness.profile_model import DeviceEnv

pytestmark = pytest.mark.area("basic")


@pytest.mark.smoke
def test_one_device(dra: DraTest) -> None:
    dra.claim("one", b.request("gpu", dra.device_class("gpu")))
    logs = dra.run("single", dra.proof_script(), claims={"gpu": "one"})
    [result] = dra.results("one")
    assert result["driver"] == dra.driver
    assert "drafarm-proof-ok" in logs


def test_several_devices_are_distinct_and_all_visible(dra: DraTest) -> None:
    env: DeviceEnv = dra.need("gpu", "deviceEnv")
    dra.claim("two", b.request("gpus", dra.device_class("gpu"), count=2))
    logs = dra.run("pair", dra.env_script(env.pattern), claims={"gpus": "two"})
    results = dra.results("two")
    assert len({(r["pool"], r["device"]) for r in results}) == 2
    names = {str(dra.attribute(r["pool"], r["device"], env.attribute)) for r in results}
    seen = set(dra.env_values(logs, env.pattern).values())
    assert seen == names, f"the container's {env.pattern} variables show {seen}, the allocated devices are {names}"


def test_all_mode_takes_every_matching_device(dra: DraTest) -> None:
    dra.claim("all", b.request("parts", dra.device_class("partition"), all_devices=True, cel=dra.pick("partition")))
    dra.run("everything", "true", claims={"parts": "all"})
    results = dra.results("all")
    assert results, "an All-mode claim was allocated no device"
    pools = {r["pool"] for r in results}
    assert len(pools) == 1, f"one node's devices were expected, got pools {pools}"
    matching = sorted(d["name"] for d in dra.devices(next(iter(pools))) if dra.picked("partition", d))
    assert sorted(r["device"] for r in results) == matching


def test_released_devices_are_reusable(dra: DraTest) -> None:
    cel = dra.pick("gpu")
    dra.claim("first", b.request("gpu", dra.device_class("gpu"), cel=cel))
    dra.run("first-user", "true", claims={"gpu": "first"})
    first = dra.results("first")
    dra.kube.delete("Pod", "first-user", dra.ns, grace=0)
    dra.wait.gone("Pod", "first-user")
    dra.kube.delete("ResourceClaim", "first", dra.ns)
    dra.wait.gone("ResourceClaim", "first")
    dra.claim("second", b.request("gpu", dra.device_class("gpu"), cel=cel))
    dra.run("second-user", "true", claims={"gpu": "second"}, on_node=_node_of(dra, first[0]["pool"]))
    second = dra.results("second")
    assert [(r["pool"], r["device"]) for r in second] == [(r["pool"], r["device"]) for r in first]


def _node_of(dra: DraTest, pool: str) -> str | None:
    """The node a node-local pool belongs to (so the second pod asks for the device the first one freed)."""
    for slice_ in dra.kube.items("ResourceSlice", fields={"spec.driver": dra.driver}):
        if slice_["spec"]["pool"]["name"] == pool:
            return slice_["spec"].get("nodeName")
    return None
