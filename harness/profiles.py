"""Driver profiles: what the suites need to know to test any DRA driver, with no code change.

    apiVersion: drafarm.dev/v1alpha1
    kind: DriverProfile
    metadata: {name: drafarm}
    spec:
      driver: drafarm.dev
      image: drafarm.local/workload:1
      deviceClasses:
        device: {name: drafarm-device, selectors: ['device.driver == "drafarm.dev"']}
      proof:
        env: ["DRAFARM_*"]
        deviceNodes: ["/dev/drafarm/*"]
        command: "python3 -m fakedevices.client info"
      capabilities: [sharing, health]

`deviceClasses.device` is required: the class whose every device is usable by itself. Other roles are
used by suites that test the capability they belong to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fakedevices.spec.problems import Problem, SpecError
from fakedevices.spec.reader import DNS_SUBDOMAIN, Reader

API_VERSION = "drafarm.dev/v1alpha1"
PROFILES_DIR = Path(__file__).resolve().parent.parent / "suites" / "profiles"
CAPABILITIES = (
    "sharing",
    "partitions",
    "consumableCapacity",
    "health",
    "taints",
    "networkAttached",
    "adminAccess",
    "prioritizedList",
    "opaqueConfig",
    "extendedResource",
)
ROLE = re.compile(r"^[a-z][a-zA-Z0-9]{0,30}$")


@dataclass(frozen=True)
class DeviceClassRole:
    role: str
    name: str
    selectors: tuple[str, ...]
    create: bool
    config: tuple[dict[str, Any], ...] = ()


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


@dataclass(frozen=True)
class DriverProfile:
    name: str
    driver: str
    image: str | None
    classes: dict[str, DeviceClassRole]
    proof: Proof
    capabilities: frozenset[str] = field(default_factory=frozenset)
    source: str = ""

    def device_class(self, role: str = "device") -> DeviceClassRole:
        if role not in self.classes:
            known = ", ".join(sorted(self.classes))
            raise KeyError(f"profile {self.name!r} has no device class for role {role!r} (it has: {known})")
        return self.classes[role]

    def has(self, capability: str) -> bool:
        return capability in self.capabilities


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_profile(ref: str | Path) -> DriverProfile:
    path = Path(ref)
    if not path.exists():
        candidate = PROFILES_DIR / f"{ref}.yaml"
        if not candidate.exists():
            raise SpecError(
                str(ref),
                [Problem("profile", str(ref), f"no such file or built-in profile ({', '.join(profile_names())})")],
            )
        path = candidate
    return parse_profile(yaml.safe_load(path.read_text()), str(path))


def parse_profile(document: Any, source: str = "profile") -> DriverProfile:
    problems: list[Problem] = []
    root = Reader(document, "", problems)
    root.string("apiVersion", choices=(API_VERSION,))
    root.string("kind", choices=("DriverProfile",))
    meta = root.child("metadata")
    name = meta.string("name")
    meta.finish()
    spec = root.child("spec")
    driver = spec.string("driver", pattern=DNS_SUBDOMAIN, pattern_help="the driver's name, a DNS subdomain")
    image = spec.string("image", "") or None
    classes: dict[str, DeviceClassRole] = {}
    roles = spec.child("deviceClasses")
    for role in list(roles.data):
        item = roles.child(str(role))
        if not ROLE.match(str(role)):
            roles.problem(roles.at(str(role)), role, "a role is a short camelCase word such as device or gpu")
        klass = DeviceClassRole(
            role=str(role),
            name=item.string("name", pattern=DNS_SUBDOMAIN, pattern_help="a DeviceClass name (DNS subdomain)"),
            selectors=tuple(item.string_list("selectors")),
            create=item.boolean("create", True),
            config=tuple(c for c in (item.raw("config") or []) if isinstance(c, dict)),
        )
        if klass.create and not klass.selectors:
            item.problem(
                item.at("selectors"), [], "give CEL selectors, or create: false for a class the driver installs"
            )
        item.finish()
        classes[str(role)] = klass
    if "device" not in classes and roles.valid:
        roles.problem(roles.at("device"), None, "required: the class of a device usable by itself")
    roles.finish()
    proof_reader = spec.child("proof")
    proof = Proof(
        env=tuple(proof_reader.string_list("env")),
        device_nodes=tuple(proof_reader.string_list("deviceNodes")),
        command=proof_reader.string("command", "") or None,
    )
    if not (proof.env or proof.device_nodes or proof.command):
        proof_reader.problem(
            spec.at("proof"), None, "say how a container proves it got a device: env, deviceNodes or command"
        )
    proof_reader.finish()
    capabilities = spec.string_list("capabilities")
    for i, capability in enumerate(capabilities):
        if capability not in CAPABILITIES:
            spec.problem(spec.at(f"capabilities[{i}]"), capability, "known: " + ", ".join(CAPABILITIES))
    spec.finish()
    root.finish()
    if problems:
        raise SpecError(source, problems)
    return DriverProfile(name, driver, image, classes, proof, frozenset(capabilities), source)


def device_class_object(klass: DeviceClassRole) -> dict[str, Any]:
    from harness.builders import device_class

    return device_class(klass.name, cel=klass.selectors, config=klass.config)
