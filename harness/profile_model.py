"""What a driver profile says, as typed records: per role, the class and the facts tests may rely on.

A role's optional keys (`pick`, `capacity`, `version`, `matchAttribute`, `distinctAttribute`, `deviceEnv`,
`requestEnv`) are the inputs of the tests that need them; a test whose key is missing is skipped with the
key named (`DriverProfile.need`). docs/profiles.md describes every key."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

Scalar = str | int | bool

ROLE_KEYS: dict[str, str] = {
    "pick": "attributes and values that select some but not all devices of the class (at most one per node "
    "is best), e.g. {index: 1}",
    "capacity": "a capacity some devices of the class have at least this much of: {name: memory, atLeast: 20Gi}",
    "version": "a version attribute and a version some devices exceed: {attribute: driverVersion, greaterThan: 1.0.0}",
    "matchAttribute": "an attribute that two devices of the class on one node share (for matchAttribute)",
    "distinctAttribute": "an attribute that two devices of the class on one node differ in (for distinctAttribute)",
    "deviceEnv": "how a container names each device it got: {pattern: MYDRV_*_UUID, attribute: uuid}, one env var "
    "per device whose value is that attribute's",
    "requestEnv": "an env var pattern whose value is the (base) request name the container's claim reference names",
}


def split_name(name: str, driver: str) -> tuple[str, str]:
    """A qualified attribute or capacity name as (domain, identifier); no domain means the driver's."""
    domain, _, ident = name.rpartition("/")
    return (domain or driver), ident


def cel_literal(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


@dataclass(frozen=True)
class CapacityFact:
    name: str
    at_least: str


@dataclass(frozen=True)
class VersionFact:
    attribute: str
    greater_than: str


@dataclass(frozen=True)
class DeviceEnv:
    pattern: str
    attribute: str


@dataclass(frozen=True)
class DeviceClassRole:
    role: str
    name: str
    selectors: tuple[str, ...]
    create: bool
    config: tuple[dict[str, Any], ...] = ()
    pick: tuple[tuple[str, Scalar], ...] = ()
    capacity: CapacityFact | None = None
    version: VersionFact | None = None
    match_attribute: str | None = None
    distinct_attribute: str | None = None
    device_env: DeviceEnv | None = None
    request_env: str | None = None

    def key(self, key: str) -> Any:
        """The value of optional key `key` (by its profile spelling), None when the profile omits it."""
        return {
            "pick": self.pick or None,
            "capacity": self.capacity,
            "version": self.version,
            "matchAttribute": self.match_attribute,
            "distinctAttribute": self.distinct_attribute,
            "deviceEnv": self.device_env,
            "requestEnv": self.request_env,
        }[key]


@dataclass(frozen=True)
class Proof:
    env: tuple[str, ...] = ()
    device_nodes: tuple[str, ...] = ()
    command: str | None = None

    def shell_check(self, exit_at_end: bool = True) -> str:
        """A POSIX shell script that prints drafarm-proof-ok when the container shows the device, and
        (with `exit_at_end`) exits non-zero otherwise."""
        lines = ["env | sort", "ok=0"]
        for pattern in self.env:
            name_re = pattern.replace("*", ".*")
            lines.append(f"env | grep -Eq '^{name_re}=' || {{ echo 'missing env {pattern}'; ok=1; }}")
        for pattern in self.device_nodes:
            lines.append(f"ls -l {pattern} >/dev/null 2>&1 || {{ echo 'missing device node {pattern}'; ok=1; }}")
        if self.command:
            lines.append(f"{self.command} || {{ echo 'proof command failed: {self.command}'; ok=1; }}")
        lines.append('if [ "$ok" = 0 ]; then echo drafarm-proof-ok; fi')
        if exit_at_end:
            lines.append('exit "$ok"')
        return "\n".join(lines)


# The upstream kubeletplugin helper (k8s.io/dynamic-resource-allocation/resourceslice, which most drivers
# use) syncs a pool 30 s after it sees one of its slices deleted (DefaultSyncDelay), and for 60 s after it
# created a slice it trusts its own copy of it (DefaultMutationCacheTTL): a slice deleted soon after it
# was written comes back only once that minute is over, up to ~60 s after the deletion (56 s measured
# on the local cluster). 90 s is that plus room for a loaded machine.
REPUBLISH_WITHIN_S = 90


class MissingProfileKey(LookupError):
    """A test needs a profile key the profile does not give; the message names the key and what it is."""


@dataclass(frozen=True)
class DriverProfile:
    name: str
    driver: str
    image: str | None
    classes: dict[str, DeviceClassRole]
    proof: Proof
    capabilities: frozenset[str] = field(default_factory=frozenset)
    source: str = ""
    republish_within_s: int = REPUBLISH_WITHIN_S

    def device_class(self, role: str = "device") -> DeviceClassRole:
        if role not in self.classes:
            known = ", ".join(sorted(self.classes))
            raise MissingProfileKey(
                f"driver profile {self.name!r} gives no deviceClasses.{role} (it has: {known}); add a class "
                f"for role {role!r} to run this test (see docs/profiles.md)"
            )
        return self.classes[role]

    def need(self, role: str, key: str) -> Any:
        """The role's key, or `MissingProfileKey` naming it (tests turn that into a skip)."""
        value = self.device_class(role).key(key)
        if value is None:
            raise MissingProfileKey(
                f"driver profile {self.name!r} gives no deviceClasses.{role}.{key} ({ROLE_KEYS[key]}); "
                "add it to run this test (see docs/profiles.md)"
            )
        return value

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def pick_cel(self, role: str) -> str:
        """A CEL selector for the role's `pick` attributes."""
        pick: tuple[tuple[str, Scalar], ...] = self.need(role, "pick")
        return " && ".join(self.attribute_cel(name) + f" == {cel_literal(value)}" for name, value in pick)

    def attribute_cel(self, name: str) -> str:
        domain, ident = split_name(name, self.driver)
        return f'device.attributes["{domain}"].{ident}'

    def capacity_cel(self, name: str) -> str:
        domain, ident = split_name(name, self.driver)
        return f'device.capacity["{domain}"].{ident}'

    def qualified(self, name: str) -> str:
        """`name` with its domain (what `matchAttribute`/`distinctAttribute` take)."""
        return "/".join(split_name(name, self.driver))
