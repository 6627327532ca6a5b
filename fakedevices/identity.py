"""Seeded, per-device fake identities: the same farm seed and device path always give the same values.

Each device draws from its own stream seeded by (farm seed, scope...), so adding a node or a device
leaves every other device's identity unchanged.
"""

from __future__ import annotations

import hashlib

from faker import Faker

_FAKER = Faker("en_US")


class IdentityStream:
    """Deterministic fake values for one device."""

    def __init__(self, seed: int, *scope: str) -> None:
        digest = hashlib.sha256("/".join((str(seed), *scope)).encode()).digest()
        self._seed = int.from_bytes(digest[:8], "big")
        _FAKER.seed_instance(self._seed)
        self._fake = _FAKER

    def uuid(self) -> str:
        return str(self._fake.uuid4())

    def serial(self, prefix: str) -> str:
        return prefix + self._fake.bothify("##??######").upper()

    def integer(self, low: int, high: int) -> int:
        return int(self._fake.random_int(low, high))

    def choice(self, options: tuple[str, ...]) -> str:
        return options[self.integer(0, len(options) - 1)]

    def version(self, major: tuple[int, int], minor_max: int = 20, patch_max: int = 40) -> str:
        return f"{self.integer(*major)}.{self.integer(0, minor_max)}.{self.integer(0, patch_max)}"

    def pci_bus(self) -> int:
        return self.integer(0x01, 0xFE)

    def mac_address(self) -> str:
        """A locally administered unicast MAC (02:xx:...), never a real vendor's."""
        octets = [0x02] + [self.integer(0, 255) for _ in range(5)]
        return ":".join(f"{o:02x}" for o in octets)


def interconnect_domain_id(seed: int, node: str, domain: int) -> str:
    digest = hashlib.sha256(f"{seed}/{node}/interconnect/{domain}".encode()).hexdigest()
    return f"icd-{digest[:12]}"
