"""matchAttribute and distinctAttribute across the devices of a claim."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = pytest.mark.area("constraints")


def test_match_attribute_keeps_gpus_in_one_interconnect_domain(dra: DraTest) -> None:
    dra.claim(
        "linked",
        b.request("gpus", dra.device_class("gpu"), count=2),
        constraints=[b.match_attribute("drafarm.dev/interconnectDomain")],
    )
    dra.run("linked", "true", claims={"gpus": "linked"})
    results = dra.results("linked")
    domains = {dra.attribute(r["pool"], r["device"], "interconnectDomain") for r in results}
    assert len(results) == 2 and len(domains) == 1, f"devices {results} span domains {domains}"


def test_distinct_attribute_spreads_gpus_over_pcie_roots(dra: DraTest) -> None:
    dra.claim(
        "spread",
        b.request("gpus", dra.device_class("gpu"), count=2),
        constraints=[b.distinct_attribute("resource.kubernetes.io/pcieRoot")],
    )
    dra.run("spread", "true", claims={"gpus": "spread"})
    results = dra.results("spread")
    roots = {
        dra.device(r["pool"], r["device"])["attributes"]["resource.kubernetes.io/pcieRoot"]["string"] for r in results
    }
    assert len(roots) == 2, f"devices {results} share a PCIe root"
