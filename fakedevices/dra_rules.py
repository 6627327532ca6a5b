"""Checks of a published device against the resource.k8s.io/v1 rules (names, types, sizes).

Used by the farm's own tests and by the conformance suite on any driver's ResourceSlices, so it works
on the API's JSON shape rather than on our model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fakedevices.dra_limits import (
    MAX_ATTRIBUTES_AND_CAPACITIES_PER_DEVICE,
    MAX_COUNTERS_PER_DEVICE,
    MAX_STRING_ATTRIBUTE_LENGTH,
)
from fakedevices.quantity import QuantityError, parse_quantity
from fakedevices.spec.reader import DNS_LABEL, DNS_SUBDOMAIN

C_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
ATTRIBUTE_TYPES = ("int", "bool", "string", "version")


def qualified_name_problem(name: str) -> str | None:
    domain, _, identifier = name.rpartition("/")
    if domain and (not DNS_SUBDOMAIN.match(domain) or len(domain) > 63):
        return f"domain {domain!r} of {name!r} is not a DNS subdomain of at most 63 characters"
    if not C_IDENTIFIER.match(identifier):
        return f"{identifier!r} of {name!r} is not a C identifier of at most 32 characters"
    return None


def device_problems(device: Mapping[str, Any]) -> list[str]:
    """Every way `device` (a ResourceSlice spec.devices[] entry) breaks the API's rules."""
    name = str(device.get("name", ""))
    problems: list[str] = []
    if not DNS_LABEL.match(name):
        problems.append(f"device name {name!r} is not a DNS label")
    attributes: Mapping[str, Any] = device.get("attributes") or {}
    capacity: Mapping[str, Any] = device.get("capacity") or {}
    if len(attributes) + len(capacity) > MAX_ATTRIBUTES_AND_CAPACITIES_PER_DEVICE:
        problems.append(f"{name}: {len(attributes) + len(capacity)} attributes and capacities, limit 32")
    for key, value in attributes.items():
        problem = qualified_name_problem(key)
        if problem:
            problems.append(f"{name}: attribute {problem}")
        problems += [f"{name}: attribute {key}: {p}" for p in _attribute_value_problems(value)]
    for key, value in capacity.items():
        problem = qualified_name_problem(key)
        if problem:
            problems.append(f"{name}: capacity {problem}")
        try:
            parse_quantity(value["value"])
        except (QuantityError, KeyError, TypeError):
            problems.append(f"{name}: capacity {key}: {value!r} has no valid quantity in 'value'")
    counters = sum(len(c.get("counters", {})) for c in device.get("consumesCounters") or [])
    if counters > MAX_COUNTERS_PER_DEVICE:
        problems.append(f"{name}: consumes {counters} counters, limit {MAX_COUNTERS_PER_DEVICE}")
    return problems


def _attribute_value_problems(value: Any) -> list[str]:
    if not isinstance(value, Mapping) or len(value) != 1 or next(iter(value)) not in ATTRIBUTE_TYPES:
        return [f"{value!r} must hold exactly one of {', '.join(ATTRIBUTE_TYPES)}"]
    kind, item = next(iter(value.items()))
    expected = {"int": int, "bool": bool, "string": str, "version": str}[kind]
    if not isinstance(item, expected) or (kind == "int" and isinstance(item, bool)):
        return [f"{kind} value {item!r} has the wrong type"]
    if kind == "string" and isinstance(item, str) and len(item) > MAX_STRING_ATTRIBUTE_LENGTH:
        return [f"string value of {len(item)} characters, limit {MAX_STRING_ATTRIBUTE_LENGTH}"]
    if kind == "version" and isinstance(item, str) and not SEMVER.match(item):
        return [f"version {item!r} is not a semantic version"]
    return []
