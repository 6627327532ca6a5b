"""Prioritized alternatives (firstAvailable): the first that fits wins; otherwise the next."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = [pytest.mark.area("prioritized"), pytest.mark.dra_gate("DRAPrioritizedList")]


def test_falls_back_to_the_second_alternative(dra: DraTest) -> None:
    impossible = b.subrequest("huge", dra.device_class("gpu"), cel='device.attributes["drafarm.dev"].model == "df9000"')
    fallback = b.subrequest("any", dra.device_class("gpu"))
    dra.claim("choice", b.first_available("gpu", impossible, fallback))
    dra.run("choice", dra.proof_script(), claims={"gpu": "choice"})
    [result] = dra.results("choice")
    assert result["request"] == "gpu/any"


def test_takes_the_first_alternative_when_it_fits(dra: DraTest) -> None:
    preferred = b.subrequest(
        "part", dra.device_class("partition"), cel='device.attributes["drafarm.dev"].profile == "1g-5gb"'
    )
    fallback = b.subrequest("whole", dra.device_class("gpu"))
    dra.claim("prefer", b.first_available("gpu", preferred, fallback))
    logs = dra.run("prefer", "env | grep '^DRAFARM_GPU_.*_REQUEST='", claims={"gpu": "prefer"})
    [result] = dra.results("prefer")
    assert result["request"] == "gpu/part"
    assert "=gpu" in logs  # the container's claim reference names the base request
