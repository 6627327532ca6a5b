"""Prioritized alternatives (firstAvailable): the first that fits wins; otherwise the next."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = [pytest.mark.area("prioritized"), pytest.mark.dra_gate("DRAPrioritizedList")]
NO_DEVICE = 'device.driver == "no-such-driver.drafarm.dev"'  # valid CEL that no device of any driver matches


def test_falls_back_to_the_second_alternative(dra: DraTest) -> None:
    impossible = b.subrequest("huge", dra.device_class("gpu"), cel=NO_DEVICE)
    fallback = b.subrequest("any", dra.device_class("gpu"))
    dra.claim("choice", b.first_available("gpu", impossible, fallback))
    dra.run("choice", dra.proof_script(), claims={"gpu": "choice"})
    [result] = dra.results("choice")
    assert result["request"] == "gpu/any"


@pytest.mark.devices_alone  # "when it fits": other tests' claims could hold every partition meanwhile
def test_takes_the_first_alternative_when_it_fits(dra: DraTest) -> None:
    role = "partition" if "partition" in dra.profile.classes else "gpu"
    preferred = b.subrequest("part", dra.device_class(role))
    fallback = b.subrequest("whole", dra.device_class("gpu"))
    dra.claim("prefer", b.first_available("gpu", preferred, fallback))
    dra.run("prefer", dra.proof_script(), claims={"gpu": "prefer"})
    [result] = dra.results("prefer")
    assert result["request"] == "gpu/part"


def test_the_container_sees_the_base_request_name(dra: DraTest) -> None:
    pattern: str = dra.need("gpu", "requestEnv")
    preferred = b.subrequest("part", dra.device_class("gpu"))
    dra.claim("named", b.first_available("gpu", preferred, b.subrequest("other", dra.device_class("gpu"))))
    logs = dra.run("named", dra.env_script(pattern), claims={"gpu": "named"})
    values = set(dra.env_values(logs, pattern).values())
    assert values == {"gpu"}, f"the container's claim reference names request gpu; {pattern} shows {values}"
