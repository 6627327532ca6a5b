"""Claim templates: one claim per pod, each with its own device."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = pytest.mark.area("templates")


@pytest.mark.smoke
def test_each_pod_gets_its_own_claim_and_device(dra: DraTest) -> None:
    dra.template("per-pod", b.request("gpu", dra.device_class("gpu")))
    hold = "echo ready; sleep 600"
    for name in ("a", "b"):
        dra.pod(name, hold, templates={"gpu": "per-pod"})
    devices = set()
    claims = set()
    for name in ("a", "b"):
        dra.wait.pod_running(name)
        claim = dra.pod_claim_name(name, "gpu")
        claims.add(claim)
        devices.update((r["pool"], r["device"]) for r in dra.results(claim))
    assert len(claims) == 2 and len(devices) == 2
