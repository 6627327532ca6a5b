"""Driver profiles: what the suites need to know to test any DRA driver, with no code change.

    apiVersion: drafarm.dev/v1alpha1
    kind: DriverProfile
    metadata: {name: my-driver}
    spec:
      driver: gpu.example.com
      image: registry.example.com/tools/busybox:1.36   # runs `sh` on the cluster's nodes
      deviceClasses:
        device: {name: example-device, selectors: ['device.driver == "gpu.example.com"']}
        gpu:
          name: example-gpu
          selectors: ['device.driver == "gpu.example.com"']
          pick: {index: 1}
          deviceEnv: {pattern: EXAMPLE_GPU_*_UUID, attribute: uuid}
      proof:
        env: ["EXAMPLE_GPU_*"]
      capabilities: [sharing]

`deviceClasses.device` is required: the class whose every device is usable by itself. Other roles are
used by suites that test the capability they belong to. docs/profiles.md lists every key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fakedevices.quantity import parse_quantity
from fakedevices.spec.document import open_document
from fakedevices.spec.loader import load_document, read_spec_text
from fakedevices.spec.problems import MISSING, Problem, SpecError
from fakedevices.spec.reader import DNS_SUBDOMAIN, Reader
from harness.profile_model import (
    REPUBLISH_WITHIN_S,
    ROLE_KEYS,
    CapacityFact,
    DeviceClassRole,
    DeviceEnv,
    DriverProfile,
    MissingProfileKey,
    Proof,
    Scalar,
    VersionFact,
)

__all__ = ["DeviceClassRole", "DriverProfile", "MissingProfileKey", "Proof", "load_profile", "parse_profile"]

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
ROLES = {
    "device": "any device usable by itself (the conformance suite)",
    "gpu": "a whole accelerator (allocation and sharing suites)",
    "partition": "a partition of an accelerator (partitions, All mode, capacity selectors)",
    "fpga": "an FPGA (FPGA configs)",
    "admin": "a device an admin-access claim may monitor while another claim holds it (admin access)",
    "camera": "a network-attached device (network devices)",
}
ROLE = re.compile(r"^[a-z][a-zA-Z0-9]{0,30}$")
QUALIFIED_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z_][A-Za-z0-9_]{0,31}$"
)
NAME_HELP = "an attribute or capacity name: an identifier (the driver's domain), or domain/identifier"
VERSION = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_profile(ref: str | Path, farm: str | None = None) -> DriverProfile:
    """A profile from a YAML file or a built-in name; `SpecError` (one line per problem) otherwise. A built-in
    name has a version for a farm when `<name>-<farm>.yaml` exists (what a test may rely on differs by farm)."""
    path = Path(ref)
    tuned = PROFILES_DIR / f"{ref}-{farm}.yaml"
    if farm and not path.exists() and not path.suffix and "/" not in str(ref) and tuned.is_file():
        path = tuned
    if not path.is_file():
        candidate = PROFILES_DIR / f"{ref}.yaml"
        if path.suffix or "/" in str(ref) or not candidate.is_file():
            allowed = f"no such file or built-in profile ({', '.join(profile_names())})"
            if path.exists():
                allowed = "not a file; give a profile YAML file or a built-in name"
            raise SpecError(str(ref), [Problem("profile", str(ref), allowed)])
        path = candidate
    document = load_document(read_spec_text(path, "driver profile"), str(path))
    return parse_profile(document, str(path))


def parse_profile(document: Any, source: str = "profile") -> DriverProfile:
    root, meta = open_document(document, API_VERSION, "DriverProfile")
    name = meta.string("name", max_length=63)
    meta.finish()
    spec = root.child("spec")
    driver = spec.string("driver", pattern=DNS_SUBDOMAIN, pattern_help="the driver's name, a DNS subdomain")
    image = spec.string("image", "", max_length=512) or None
    classes: dict[str, DeviceClassRole] = {}
    roles = spec.child("deviceClasses")
    for role in list(roles.data):
        if not isinstance(role, str) or not ROLE.match(role):
            roles.problem(roles.at(str(role)), role, "a role is a short camelCase word such as device or gpu")
            roles.raw(role)
            continue
        classes[role] = _role(roles.child(role), role)
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
    republish = spec.integer("republishWithinSeconds", REPUBLISH_WITHIN_S, minimum=5, maximum=3600)
    capabilities = spec.string_list("capabilities")
    for i, capability in enumerate(capabilities):
        if capability not in CAPABILITIES:
            spec.problem(spec.at(f"capabilities[{i}]"), capability, "known: " + ", ".join(CAPABILITIES))
    spec.finish()
    root.finish()
    if root.problems:
        raise SpecError(source, root.problems)
    return DriverProfile(name, driver, image, classes, proof, frozenset(capabilities), source, republish)


def _role(item: Reader, role: str) -> DeviceClassRole:
    config = item.raw("config")
    if config is not MISSING and not (isinstance(config, list) and all(isinstance(c, dict) for c in config)):
        item.problem(item.at("config"), config, "a list of DeviceClass config entries ({opaque: {driver, parameters}})")
    klass = DeviceClassRole(
        role=role,
        name=item.string("name", pattern=DNS_SUBDOMAIN, pattern_help="a DeviceClass name (DNS subdomain)"),
        selectors=tuple(item.string_list("selectors")),
        create=item.boolean("create", True),
        config=tuple(config) if isinstance(config, list) else (),
        pick=_pick(item),
        capacity=_capacity(item.child("capacity")) if item.has("capacity") else None,
        version=_version(item.child("version")) if item.has("version") else None,
        match_attribute=_name(item, "matchAttribute"),
        distinct_attribute=_name(item, "distinctAttribute"),
        device_env=_device_env(item.child("deviceEnv")) if item.has("deviceEnv") else None,
        request_env=item.string("requestEnv", "", max_length=128) or None,
    )
    if klass.create and not klass.selectors:
        item.problem(item.at("selectors"), [], "give CEL selectors, or create: false for a class the driver installs")
    item.finish()
    return klass


def _name(item: Reader, key: str) -> str | None:
    return item.string(key, "", pattern=QUALIFIED_NAME, pattern_help=NAME_HELP) or None


def _pick(item: Reader) -> tuple[tuple[str, Scalar], ...]:
    value = item.raw("pick")
    if value is MISSING or value is None:
        return ()
    allowed = f"a mapping of attribute names to values (strings, integers, true/false): {ROLE_KEYS['pick']}"
    if not isinstance(value, dict) or not value:
        item.problem(item.at("pick"), value, allowed)
        return ()
    picked: list[tuple[str, Scalar]] = []
    for name, wanted in value.items():
        where = f"{item.at('pick')}.{name}"
        if not isinstance(name, str) or not QUALIFIED_NAME.match(name):
            item.problem(where, name, NAME_HELP)
        elif not isinstance(wanted, str | int | bool) or (isinstance(wanted, str) and len(wanted) > 64):
            item.problem(where, wanted, "a string (at most 64 characters), an integer or true/false")
        else:
            picked.append((name, wanted))
    return tuple(picked)


def _capacity(reader: Reader) -> CapacityFact:
    name = reader.string("name", pattern=QUALIFIED_NAME, pattern_help=NAME_HELP)
    at_least = reader.parsed("atLeast", "", _quantity, "a Kubernetes quantity such as 20Gi or 4")
    if not reader.has("atLeast"):
        reader.problem(reader.at("atLeast"), None, "this field is required: a quantity some devices have at least")
    reader.finish()
    return CapacityFact(name, at_least)


def _quantity(value: Any) -> str:
    text = str(value)
    if len(text) > 32:
        raise ValueError(text)
    parse_quantity(text)
    return text


def _version(reader: Reader) -> VersionFact:
    attribute = reader.string("attribute", pattern=QUALIFIED_NAME, pattern_help=NAME_HELP)
    greater = reader.string("greaterThan", pattern=VERSION, pattern_help="a semantic version such as 1.0.0")
    reader.finish()
    return VersionFact(attribute, greater)


def _device_env(reader: Reader) -> DeviceEnv:
    pattern = reader.string("pattern", max_length=128)
    attribute = reader.string("attribute", pattern=QUALIFIED_NAME, pattern_help=NAME_HELP)
    reader.finish()
    return DeviceEnv(pattern, attribute)


def device_class_object(klass: DeviceClassRole) -> dict[str, Any]:
    from harness.builders import device_class

    return device_class(klass.name, cel=klass.selectors, config=klass.config)
