"""matchAttribute and distinctAttribute across the devices of a claim."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = pytest.mark.area("constraints")


def _two_gpus_under(
    dra: DraTest, claim: str, constraint: Callable[[str], dict[str, Any]], name: str
) -> tuple[list[dict[str, Any]], set[Any]]:
    """A pod's claim of two GPUs under `constraint` on attribute `name`: its results and their values of `name`."""
    dra.claim(
        claim,
        b.request("gpus", dra.device_class("gpu"), count=2),
        constraints=[constraint(dra.profile.qualified(name))],
    )
    dra.run(claim, "true", claims={"gpus": claim})
    results = dra.results(claim)
    return results, {dra.attribute(r["pool"], r["device"], name) for r in results}


def test_match_attribute_keeps_devices_on_one_value(dra: DraTest) -> None:
    name: str = dra.need("gpu", "matchAttribute")
    results, values = _two_gpus_under(dra, "linked", b.match_attribute, name)
    assert len(results) == 2 and len(values) == 1, f"devices {results} have different {name}: {values}"


def test_distinct_attribute_spreads_devices(dra: DraTest) -> None:
    name: str = dra.need("gpu", "distinctAttribute")
    results, values = _two_gpus_under(dra, "spread", b.distinct_attribute, name)
    assert len(results) == 2 and len(values) == 2, f"devices {results} share {name}: {values}"
