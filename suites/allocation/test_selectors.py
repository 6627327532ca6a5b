"""CEL selectors on attributes, on capacity and on versions."""

from __future__ import annotations

from typing import Any

import pytest

from fakedevices.quantity import parse_quantity
from harness import builders as b
from harness.dratest import DraTest
from harness.profile_model import CapacityFact, DeviceEnv, VersionFact

pytestmark = pytest.mark.area("selectors")


@pytest.mark.smoke
def test_selector_on_attributes(dra: DraTest) -> None:
    cel = dra.pick("gpu")
    dra.claim("picky", b.request("gpu", dra.device_class("gpu"), cel=cel))
    env: DeviceEnv | None = dra.profile.device_class("gpu").device_env
    logs = dra.run("picky", dra.env_script(env.pattern) if env else "true", claims={"gpu": "picky"})
    [result] = dra.results("picky")
    device = dra.device(result["pool"], result["device"])
    assert dra.picked("gpu", device), f"device {result['device']} does not match the selector {cel}"
    if env is not None:
        assert str(dra.attribute(result["pool"], result["device"], env.attribute)) in logs


def test_selector_on_capacity(dra: DraTest) -> None:
    fact: CapacityFact = dra.need("partition", "capacity")
    cel = f'{dra.profile.capacity_cel(fact.name)}.compareTo(quantity("{fact.at_least}")) >= 0'
    result = _one_selected(dra, "big", "partition", "part", cel)
    capacity = dra.device(result["pool"], result["device"]).get("capacity") or {}
    domain, _, name = dra.profile.qualified(fact.name).rpartition("/")
    value = (capacity.get(f"{domain}/{name}") or capacity.get(name) or {}).get("value")
    assert value is not None and parse_quantity(value) >= parse_quantity(fact.at_least), (
        f"device {result['device']} has {fact.name}={value}, the selector asked for at least {fact.at_least}"
    )


def test_selector_on_version_attribute(dra: DraTest) -> None:
    fact: VersionFact = dra.need("gpu", "version")
    cel = f'{dra.profile.attribute_cel(fact.attribute)}.isGreaterThan(semver("{fact.greater_than}"))'
    result = _one_selected(dra, "versioned", "gpu", "gpu", cel)
    version = str(dra.attribute(result["pool"], result["device"], fact.attribute))
    assert _semver(version) > _semver(fact.greater_than), f"{result['device']} has {fact.attribute}={version}"


def _one_selected(dra: DraTest, claim: str, role: str, request: str, cel: str) -> dict[str, Any]:
    """Claim one device of `role` that `cel` selects and run a pod with it: the claim's one result."""
    dra.claim(claim, b.request(request, dra.device_class(role), cel=cel))
    dra.run(claim, "true", claims={request: claim})
    [result] = dra.results(claim)
    return result


def _semver(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("-", 1)[0].split("+", 1)[0].split("."))
