"""A claim nothing can satisfy stays pending, and the scheduler says why."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = pytest.mark.area("unsatisfiable")
NO_DEVICE = 'device.driver == "no-such-driver.drafarm.dev"'  # valid CEL that no device of any driver matches


@pytest.mark.smoke
def test_too_many_devices_stays_pending_with_the_reason(dra: DraTest) -> None:
    dra.claim("greedy", b.request("gpus", dra.device_class("gpu"), count=99))
    dra.pod("greedy", "true", claims={"gpus": "greedy"})
    event = dra.wait.event("greedy", "FailedScheduling", "", 60)
    assert "claim" in event["message"].lower() or "device" in event["message"].lower(), event["message"]
    assert (dra.get("Pod", "greedy") or {})["status"]["phase"] == "Pending"
    assert not dra.results("greedy")


def test_no_matching_device(dra: DraTest) -> None:
    dra.claim("none", b.request("gpu", dra.device_class("gpu"), cel=NO_DEVICE))
    dra.pod("none", "true", claims={"gpu": "none"})
    dra.wait.event("none", "FailedScheduling", "", 60)
    assert not dra.results("none")
