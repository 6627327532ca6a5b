"""The built-in profile has a version per example farm: `drafarm` with the `mixed` farm is
drafarm-mixed.yaml, and each version's picks name devices its farm has (and matchAttribute groups them)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from fakedevices.farm import open_farm
from harness.profiles import PROFILES_DIR, load_profile


def test_the_mixed_farm_gets_its_own_version_of_the_builtin_profile() -> None:
    assert load_profile("drafarm", "mixed").need("gpu", "pick") != load_profile("drafarm").need("gpu", "pick")
    assert load_profile("drafarm", "small").need("gpu", "pick") == load_profile("drafarm").need("gpu", "pick")
    assert load_profile("drafarm", "kind-pair").name == "drafarm", "a farm without a version gets the plain one"


def test_a_profile_given_as_a_file_is_used_as_it_is(tmp_path: Path) -> None:
    own = tmp_path / "drafarm"
    own.write_text((PROFILES_DIR / "drafarm.yaml").read_text())
    assert load_profile(own, "mixed").need("gpu", "pick") == load_profile("drafarm").need("gpu", "pick")


@pytest.mark.parametrize("farm", ["small", "mixed"])
def test_every_pick_names_devices_of_its_farm(farm: str) -> None:
    profile = load_profile("drafarm", farm)
    devices = [{**d.to_api(), "pool": pool} for pool, d in open_farm(farm).farm.all_devices()]

    def value(device: dict[str, object], name: str) -> object:
        attribute = (device.get("attributes") or {}).get(name)  # type: ignore[union-attr]
        return None if attribute is None else next(iter(attribute.values()))

    for role in ("gpu", "partition", "admin"):
        pick = profile.need(role, "pick")
        kind = "partition" if role == "partition" else "fpga" if role == "admin" else "gpu"
        found = [d for d in devices if value(d, "type") == kind and all(value(d, k) == v for k, v in pick)]
        assert found, f"{farm}: the {role} pick {pick} names no device"
    partitions = [d for d in devices if value(d, "type") == "partition" and all(
        value(d, k) == v for k, v in profile.need("partition", "pick"))]  # fmt: skip
    per_gpu = Counter((d["pool"], value(d, "parentUUID")) for d in partitions)
    assert set(per_gpu.values()) == {7}, f"{farm}: the partition pick should give the seven 1g partitions of a GPU"
    domains = Counter(value(d, profile.need("gpu", "matchAttribute")) for d in devices if value(d, "type") == "gpu")
    assert max(domains.values()) >= 2, f"{farm}: no two GPUs share an {profile.need('gpu', 'matchAttribute')}"
