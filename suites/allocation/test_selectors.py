"""CEL selectors on attributes and on capacity."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = pytest.mark.area("selectors")


@pytest.mark.smoke
def test_selector_on_attributes(dra: DraTest) -> None:
    cel = 'device.attributes["drafarm.dev"].model == "df100" && device.attributes["drafarm.dev"].index == 1'
    dra.claim("picky", b.request("gpu", dra.device_class("gpu"), cel=cel))
    logs = dra.run("picky", "env | grep '^DRAFARM_GPU_.*_UUID='", claims={"gpu": "picky"})
    [result] = dra.results("picky")
    assert result["device"] == "gpu-1"
    assert str(dra.attribute(result["pool"], "gpu-1", "uuid")) in logs


def test_selector_on_capacity_a_gpu_with_at_least_20gi(dra: DraTest) -> None:
    cel = 'device.capacity["drafarm.dev"].memory.compareTo(quantity("20Gi")) >= 0'
    dra.claim("big", b.request("part", dra.device_class("partition"), cel=cel))
    dra.run("big", "true", claims={"part": "big"})
    [result] = dra.results("big")
    assert dra.attribute(result["pool"], result["device"], "profile") == "3g-20gb"


def test_selector_on_version_attribute(dra: DraTest) -> None:
    cel = 'device.attributes["drafarm.dev"].driverVersion.isGreaterThan(semver("1.0.0"))'
    dra.claim("versioned", b.request("gpu", dra.device_class("gpu"), cel=cel))
    dra.run("versioned", "true", claims={"gpu": "versioned"})
    assert len(dra.results("versioned")) == 1
