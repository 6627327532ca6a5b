"""FPGA cards and the DRA devices they publish."""

from __future__ import annotations

from dataclasses import dataclass

from fakedevices.dra_limits import SHARED_PCIE_ROOT_ATTRIBUTE
from fakedevices.identity import IdentityStream
from fakedevices.kinds.base import BuildContext
from fakedevices.kinds.card_device import card_device
from fakedevices.kinds.fpga.options import FAMILIES, FpgaOptions
from fakedevices.model import Attribute, Capacity, Card, Device, Inventory


@dataclass(frozen=True)
class FpgaIdentity:
    index: int
    serial: str
    family: str
    part_number: str
    product: str
    shell_version: str
    regions: int
    program_seconds: float
    pci_address: str
    pcie_root: str


def build_fpgas(ctx: BuildContext, o: FpgaOptions) -> Inventory:
    prefix, product = FAMILIES[o.family]
    cards: list[Card] = []
    devices: list[Device] = []
    for index in range(o.count):
        stream = IdentityStream(ctx.seed, ctx.pool, "fpga", str(index))
        bus = stream.pci_bus()
        identity = FpgaIdentity(
            index=index,
            serial=stream.serial("DFF"),
            family=o.family,
            part_number=f"{prefix}-{stream.integer(1, 3)}{stream.choice(('E', 'I'))}",
            product=product,
            shell_version=o.shell_version or stream.version((1, 4), 9, 9),
            regions=o.regions,
            program_seconds=o.program_seconds,
            pci_address=f"0000:{bus:02x}:00.0",
            pcie_root=f"pci0000:{bus:02x}",
        )
        card = Card(f"fpga-{index}", "fpga", identity)
        cards.append(card)
        devices.append(
            card_device(
                card,
                index,
                {
                    "family": Attribute.of_string(identity.family),
                    "productName": Attribute.of_string(identity.product),
                    "partNumber": Attribute.of_string(identity.part_number),
                    "shellVersion": Attribute.of_version(identity.shell_version),
                    "serial": Attribute.of_string(identity.serial),
                    "regions": Attribute.of_int(identity.regions),
                    "pciAddress": Attribute.of_string(identity.pci_address),
                    SHARED_PCIE_ROOT_ATTRIBUTE: Attribute.of_string(identity.pcie_root),
                },
                {"regions": Capacity(str(identity.regions))},
            )
        )
    return Inventory(tuple(cards), tuple(devices))
