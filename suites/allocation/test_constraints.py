"""matchAttribute and distinctAttribute across the devices of a claim."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = pytest.mark.area("constraints")


def test_match_attribute_keeps_devices_on_one_value(dra: DraTest) -> None:
    name: str = dra.need("gpu", "matchAttribute")
    dra.claim(
        "linked",
        b.request("gpus", dra.device_class("gpu"), count=2),
        constraints=[b.match_attribute(dra.profile.qualified(name))],
    )
    dra.run("linked", "true", claims={"gpus": "linked"})
    results = dra.results("linked")
    values = {dra.attribute(r["pool"], r["device"], name) for r in results}
    assert len(results) == 2 and len(values) == 1, f"devices {results} have different {name}: {values}"


def test_distinct_attribute_spreads_devices(dra: DraTest) -> None:
    name: str = dra.need("gpu", "distinctAttribute")
    dra.claim(
        "spread",
        b.request("gpus", dra.device_class("gpu"), count=2),
        constraints=[b.distinct_attribute(dra.profile.qualified(name))],
    )
    dra.run("spread", "true", claims={"gpus": "spread"})
    results = dra.results("spread")
    values = {dra.attribute(r["pool"], r["device"], name) for r in results}
    assert len(results) == 2 and len(values) == 2, f"devices {results} share {name}: {values}"
