"""Driver profiles: every optional role key parses, is checked, and `drafarm profile` reports on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from fakedevices.spec.problems import SpecError
from harness.profile_init import PLACEHOLDER_ENV, starting_profile
from harness.profile_model import ROLE_KEYS, MissingProfileKey
from harness.profiles import load_profile, parse_profile

BUILTIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "suites" / "profiles" / "drafarm.yaml").read_text())


def _without(role: str, key: str) -> dict[str, Any]:
    document = yaml.safe_load(yaml.safe_dump(BUILTIN))
    for klass in document["spec"]["deviceClasses"].values():
        klass.pop(key, None)
    return dict(document)


@pytest.mark.parametrize("key", sorted(ROLE_KEYS))
def test_the_builtin_profile_gives_every_key_and_a_missing_key_is_named(key: str) -> None:
    role = "partition" if key == "capacity" else "gpu"
    assert load_profile("drafarm").need(role, key) is not None
    stripped = parse_profile(_without(role, key))
    with pytest.raises(MissingProfileKey) as caught:
        stripped.need(role, key)
    assert f"deviceClasses.{role}.{key}" in str(caught.value) and "docs/profiles.md" in str(caught.value)


def test_a_missing_role_is_named() -> None:
    with pytest.raises(MissingProfileKey, match=r"deviceClasses\.camera"):
        load_profile("suites/profiles/env-only.example.yaml").device_class("camera")


def test_pick_gives_cel_on_the_drivers_domain_and_qualified_names() -> None:
    profile = load_profile("drafarm")
    assert profile.pick_cel("gpu") == (
        'device.attributes["drafarm.dev"].model == "df100" && device.attributes["drafarm.dev"].index == 1'
    )
    assert profile.qualified("interconnectDomain") == "drafarm.dev/interconnectDomain"
    assert (
        profile.attribute_cel("resource.kubernetes.io/pcieRoot")
        == 'device.attributes["resource.kubernetes.io"].pcieRoot'
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("pick", {"index": [1]}, "spec.deviceClasses.gpu.pick.index"),
        ("pick", {"bad name!": 1}, "spec.deviceClasses.gpu.pick.bad name!"),
        ("capacity", {"name": "memory"}, "spec.deviceClasses.gpu.capacity.atLeast"),
        ("capacity", {"name": "memory", "atLeast": "lots"}, "spec.deviceClasses.gpu.capacity.atLeast"),
        ("version", {"attribute": "v", "greaterThan": "one"}, "spec.deviceClasses.gpu.version.greaterThan"),
        ("matchAttribute", "no spaces", "spec.deviceClasses.gpu.matchAttribute"),
        ("deviceEnv", {"pattern": "X_*"}, "spec.deviceClasses.gpu.deviceEnv.attribute"),
        ("deviceEnv", {"pattern": "X_*", "attribute": "uuid", "extra": 1}, "spec.deviceClasses.gpu.deviceEnv.extra"),
    ],
)
def test_a_bad_key_is_one_line_naming_the_field(key: str, value: Any, message: str) -> None:
    document = yaml.safe_load(yaml.safe_dump(BUILTIN))
    document["spec"]["deviceClasses"]["gpu"][key] = value
    with pytest.raises(SpecError) as caught:
        parse_profile(document, "p.yaml")
    assert any(p.path == message for p in caught.value.problems), str(caught.value)


def test_republish_within_seconds_defaults_to_90_and_is_bounded() -> None:
    assert load_profile("drafarm").republish_within_s == 90
    document = yaml.safe_load(yaml.safe_dump(BUILTIN))
    document["spec"]["republishWithinSeconds"] = 20
    assert parse_profile(document).republish_within_s == 20
    for bad in (0, 4000, "90s", True):
        document["spec"]["republishWithinSeconds"] = bad
        with pytest.raises(SpecError) as caught:
            parse_profile(document, "p.yaml")
        assert [p.path for p in caught.value.problems] == ["spec.republishWithinSeconds"], str(caught.value)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_profile_validate_exit_codes(tmp_path: Path) -> None:
    assert _run("profile", "validate", "drafarm").returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**BUILTIN, "spec": {**BUILTIN["spec"], "driver": "Bad_Name"}}))
    result = _run("profile", "validate", str(bad))
    assert result.returncode == 2
    assert "spec.driver" in result.stderr and "Bad_Name" in result.stderr
    missing = _run("profile", "validate", str(tmp_path / "gone.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def _slice(pool: str, devices: list[dict[str, Any]]) -> dict[str, Any]:
    spec = {"driver": "gpu.example.com", "pool": {"name": pool, "generation": 1}, "devices": devices}
    return {"spec": spec}


def _gpu(name: str, index: int, domain: str, root: str, memory: str) -> dict[str, Any]:
    attributes = {
        "index": {"int": index},
        "domain": {"string": domain},
        "gpu.example.com/root": {"string": root},
        "driverVersion": {"version": "1.2.3"},
    }
    return {"name": name, "attributes": attributes, "capacity": {"memory": {"value": memory}}}


def test_profile_init_derives_keys_from_published_devices() -> None:
    devices = [_gpu(f"g{i}", i, f"d{i // 2}", f"r{i % 2}", "80Gi" if i == 3 else "40Gi") for i in range(4)]
    document = starting_profile("gpu.example.com", [], [_slice("node-a", devices), _slice("node-b", devices)])
    gpu = document["spec"]["deviceClasses"]["gpu"]
    assert gpu["selectors"] == ['device.driver == "gpu.example.com"']
    assert gpu["pick"] in ({"index": 0}, {"index": 1}, {"index": 2}, {"index": 3})
    assert gpu["matchAttribute"] in ("domain", "root") and gpu["distinctAttribute"] in ("domain", "root", "index")
    assert gpu["version"] == {"attribute": "driverVersion", "greaterThan": "0.0.0"}
    assert gpu["capacity"] == {"name": "memory", "atLeast": "80Gi"}
    assert document["spec"]["proof"] == {"env": [PLACEHOLDER_ENV]}
    assert "&id" not in yaml.safe_dump(document), "no YAML anchors in a file a person edits"
    parse_profile(document)  # what init writes is a valid profile


def test_profile_init_uses_the_drivers_own_class() -> None:
    klass = {
        "metadata": {"name": "gpu.example.com"},
        "spec": {"selectors": [{"cel": {"expression": 'device.driver == "gpu.example.com"'}}]},
    }
    document = starting_profile("gpu.example.com", [klass], [_slice("n", [_gpu("g0", 0, "d", "r", "1Gi")])])
    assert document["spec"]["deviceClasses"]["device"] == {"name": "gpu.example.com", "create": False}
