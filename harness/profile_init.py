"""A starting driver profile from what a driver publishes: its DeviceClasses and its slices' devices.

What a container sees (the proof, `deviceEnv`) is not in the API: the profile gets a placeholder there,
and the caller is told to fill it in."""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from fakedevices.quantity import parse_quantity

PLACEHOLDER_ENV = "REPLACE_ME_*"

Devices = list[tuple[str, dict[str, Any]]]  # (pool, device)


def starting_profile(
    driver: str, classes: Iterable[Mapping[str, Any]], slices: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    devices = _devices(driver, slices)
    klass = _class_role(driver, classes)
    gpu: dict[str, Any] = copy.deepcopy(klass)
    attributes = _attribute_values(driver, devices)
    pick = _pick(attributes, devices)
    if pick:
        gpu["pick"] = {pick[0]: pick[1]}
    shared, distinct = _match_attribute(attributes), _distinct_attribute(attributes)
    if shared:
        gpu["matchAttribute"] = shared
    if distinct:
        gpu["distinctAttribute"] = distinct
    version = _version(attributes)
    if version:
        gpu["version"] = {"attribute": version[0], "greaterThan": version[1]}
    capacity = _capacity(driver, devices)
    if capacity:
        gpu["capacity"] = {"name": capacity[0], "atLeast": capacity[1]}
    return {
        "apiVersion": "drafarm.dev/v1alpha1",
        "kind": "DriverProfile",
        "metadata": {"name": driver.split(".", 1)[0]},
        "spec": {
            "driver": driver,
            "deviceClasses": {"device": klass, "gpu": gpu},
            "proof": {"env": [PLACEHOLDER_ENV]},
            "capabilities": [],
        },
    }


def _devices(driver: str, slices: Iterable[Mapping[str, Any]]) -> Devices:
    found: Devices = []
    for slice_ in slices:
        spec = slice_.get("spec") or {}
        if spec.get("driver") != driver:
            continue
        pool = str((spec.get("pool") or {}).get("name", ""))
        found += [(pool, dict(d)) for d in spec.get("devices") or []]
    return found


def _class_role(driver: str, classes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The driver's own DeviceClass if it installs one (selectors naming it), else one to create."""
    for klass in sorted(classes, key=lambda c: str(c["metadata"]["name"])):
        expressions = [
            str((s.get("cel") or {}).get("expression", "")) for s in (klass.get("spec") or {}).get("selectors") or []
        ]
        if any(f'"{driver}"' in e for e in expressions):
            return {"name": klass["metadata"]["name"], "create": False}
    short = driver.split(".", 1)[0]
    return {"name": f"{short}-device.drafarm.dev", "selectors": [f'device.driver == "{driver}"']}


def _attribute_values(driver: str, devices: Devices) -> dict[str, list[tuple[str, str, Any]]]:
    """attribute name (short when in the driver's domain) -> [(pool, type, value)]."""
    values: dict[str, list[tuple[str, str, Any]]] = defaultdict(list)
    for pool, device in devices:
        for name, typed in (device.get("attributes") or {}).items():
            if not isinstance(typed, dict) or len(typed) != 1:
                continue
            kind, value = next(iter(typed.items()))
            short = name.removeprefix(f"{driver}/")
            values[short].append((pool, kind, value))
    return values


def _pick(attributes: Mapping[str, list[tuple[str, str, Any]]], devices: Devices) -> tuple[str, Any] | None:
    """The (attribute, value) that selects the fewest devices per pool, but some in every pool and not all."""
    pools = Counter(pool for pool, _ in devices)
    best: tuple[int, str, Any] | None = None
    for name, seen in sorted(attributes.items()):
        if any(kind not in ("int", "string", "bool") for _, kind, _ in seen):
            continue
        for value in sorted({v for _, _, v in seen}, key=str):
            per_pool = Counter(pool for pool, _, v in seen if v == value)
            if set(per_pool) != set(pools) or all(per_pool[p] == pools[p] for p in pools):
                continue
            count = max(per_pool.values())
            if best is None or count < best[0]:
                best = (count, name, value)
    return (best[1], best[2]) if best else None


def _by_pool(seen: list[tuple[str, str, Any]]) -> dict[str, Counter[str]]:
    grouped: dict[str, Counter[str]] = defaultdict(Counter)
    for pool, _, value in seen:
        grouped[pool][str(value)] += 1
    return grouped


def _match_attribute(attributes: Mapping[str, list[tuple[str, str, Any]]]) -> str | None:
    """An attribute with several values, at least one of them shared by two devices of one pool."""
    for name, seen in sorted(attributes.items()):
        grouped = _by_pool(seen)
        if any(len(c) > 1 and max(c.values()) > 1 for c in grouped.values()):
            return name
    return None


def _distinct_attribute(attributes: Mapping[str, list[tuple[str, str, Any]]]) -> str | None:
    """An attribute on which two devices of one pool differ, preferring one that groups devices."""
    candidates = [
        (max(c.values()) == 1, name)
        for name, seen in sorted(attributes.items())
        for c in [max(_by_pool(seen).values(), key=len)]
        if len(c) > 1
    ]
    return min(candidates)[1] if candidates else None


def _version(attributes: Mapping[str, list[tuple[str, str, Any]]]) -> tuple[str, str] | None:
    for name, seen in sorted(attributes.items()):
        versions = [str(v) for _, kind, v in seen if kind == "version"]
        if versions and len(versions) == len(seen) and any(v != "0.0.0" for v in versions):
            return name, "0.0.0"
    return None


def _capacity(driver: str, devices: Devices) -> tuple[str, str] | None:
    """The capacity whose largest value only some devices reach (or any capacity), with that value."""
    values: dict[str, list[str]] = defaultdict(list)
    for _, device in devices:
        for name, entry in (device.get("capacity") or {}).items():
            if isinstance(entry, dict) and "value" in entry:
                values[name.removeprefix(f"{driver}/")].append(str(entry["value"]))
    ranked = []
    for name, seen in sorted(values.items()):
        top = max(seen, key=parse_quantity)
        ranked.append((sum(1 for v in seen if parse_quantity(v) >= parse_quantity(top)) == len(seen), name, top))
    return (min(ranked)[1], min(ranked)[2]) if ranked else None
