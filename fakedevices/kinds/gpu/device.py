"""GPU cards and the DRA devices they publish: whole GPUs, partitions and memory-shared GPUs."""

from __future__ import annotations

from dataclasses import dataclass

from fakedevices.dra_limits import SHARED_PCIE_ROOT_ATTRIBUTE
from fakedevices.identity import IdentityStream, interconnect_domain_id
from fakedevices.kinds.base import BuildContext
from fakedevices.kinds.card_device import device_attributes
from fakedevices.kinds.gpu.catalog import DRIVER_VERSIONS, MODELS
from fakedevices.kinds.gpu.options import GpuOptions, PartitionProfile
from fakedevices.model import (
    Attribute,
    Capacity,
    Card,
    CounterConsumption,
    CounterSet,
    Device,
    Inventory,
    RequestPolicy,
)
from fakedevices.quantity import format_bytes


@dataclass(frozen=True)
class GpuIdentity:
    index: int
    uuid: str
    serial: str
    model: str
    product: str
    architecture: str
    memory_bytes: int
    compute_slices: int
    driver_version: str
    firmware_version: str
    pci_address: str
    pcie_root: str
    interconnect_domain: str


def build_gpus(ctx: BuildContext, o: GpuOptions) -> Inventory:
    model = MODELS[o.model]
    node_stream = IdentityStream(ctx.seed, ctx.pool, "gpu-driver")
    driver_version = o.driver_version or node_stream.choice(DRIVER_VERSIONS)
    roots = [f"pci0000:{node_stream.pci_bus():02x}" for _ in range(o.pcie_roots)]
    shared_from = o.count - (o.memory_sharing.gpus if o.memory_sharing else 0)
    inventory = Inventory()
    for index in range(o.count):
        stream = IdentityStream(ctx.seed, ctx.pool, "gpu", str(index))
        identity = GpuIdentity(
            index=index,
            uuid="GPU-" + stream.uuid(),
            serial=stream.serial("DFG"),
            model=model.name,
            product=model.product,
            architecture=model.architecture,
            memory_bytes=o.memory_bytes,
            compute_slices=o.compute_slices,
            driver_version=driver_version,
            firmware_version=stream.version((1, 9)),
            pci_address=f"0000:{stream.pci_bus():02x}:00.0",
            pcie_root=roots[index * o.pcie_roots // o.count],
            interconnect_domain=interconnect_domain_id(ctx.seed, ctx.pool, index * o.interconnect_domains // o.count),
        )
        card = Card(f"gpu-{index}", "gpu", identity)
        if index >= shared_from and o.memory_sharing is not None:
            policy = RequestPolicy(
                default=format_bytes(o.memory_sharing.minimum_bytes),
                minimum=format_bytes(o.memory_sharing.minimum_bytes),
                step=format_bytes(o.memory_sharing.step_bytes),
            )
            whole = _device(card, identity, card.name, "gpu", memory_policy=policy)
            inventory += Inventory((card,), (whole,))
        elif o.partitions:
            inventory += _partitioned(card, identity, o, stream)
        else:
            inventory += Inventory((card,), (_device(card, identity, card.name, "gpu"),))
    return inventory


def _common_attributes(identity: GpuIdentity, device_type: str) -> dict[str, Attribute]:
    return {
        **device_attributes("gpu", device_type, identity.index),
        "model": Attribute.of_string(identity.model),
        "productName": Attribute.of_string(identity.product),
        "architecture": Attribute.of_string(identity.architecture),
        "driverVersion": Attribute.of_version(identity.driver_version),
        "firmwareVersion": Attribute.of_version(identity.firmware_version),
        "serial": Attribute.of_string(identity.serial),
        "pciAddress": Attribute.of_string(identity.pci_address),
        "interconnectDomain": Attribute.of_string(identity.interconnect_domain),
        SHARED_PCIE_ROOT_ATTRIBUTE: Attribute.of_string(identity.pcie_root),
    }


def _device(
    card: Card,
    identity: GpuIdentity,
    name: str,
    device_type: str,
    *,
    memory_policy: RequestPolicy | None = None,
    consumes: tuple[CounterConsumption, ...] = (),
) -> Device:
    attributes = _common_attributes(identity, device_type)
    attributes["uuid"] = Attribute.of_string(identity.uuid)
    return Device(
        name=name,
        kind="gpu",
        physical=card.name,
        attributes=attributes,
        capacity={
            "memory": Capacity(format_bytes(identity.memory_bytes), memory_policy),
            # Shares of a memory-shared GPU time-slice its compute: without a policy each allocation
            # would consume all of it (the API's default), and a second share could never fit.
            "compute": Capacity(
                str(identity.compute_slices),
                None if memory_policy is None else RequestPolicy(default="0", minimum="0", step="1"),
            ),
        },
        consumes_counters=consumes,
        allow_multiple_allocations=memory_policy is not None,
    )


def _partitioned(card: Card, identity: GpuIdentity, o: GpuOptions, stream: IdentityStream) -> Inventory:
    counter_set = CounterSet(
        f"{card.name}-counters",
        {"memory": format_bytes(identity.memory_bytes), "compute": str(identity.compute_slices)},
    )
    whole = _device(
        card,
        identity,
        card.name,
        "gpu",
        consumes=(CounterConsumption(counter_set.name, counter_set.counters),),
    )
    devices = [whole]
    for profile in o.partitions:
        for instance in range(o.instances(profile)):
            devices.append(_partition(card, identity, counter_set.name, profile, instance, stream))
    return Inventory((card,), tuple(devices), (counter_set,))


def _partition(
    card: Card,
    identity: GpuIdentity,
    counter_set: str,
    profile: PartitionProfile,
    instance: int,
    stream: IdentityStream,
) -> Device:
    attributes = _common_attributes(identity, "partition")
    attributes["uuid"] = Attribute.of_string("PART-" + stream.uuid())
    attributes["parentUUID"] = Attribute.of_string(identity.uuid)
    attributes["profile"] = Attribute.of_string(profile.name)
    memory = format_bytes(profile.memory_bytes)
    slices = str(profile.compute_slices)
    return Device(
        name=f"{card.name}-{profile.name}-{instance}",
        kind="gpu",
        physical=card.name,
        attributes=attributes,
        capacity={"memory": Capacity(memory), "compute": Capacity(slices)},
        consumes_counters=(CounterConsumption(counter_set, {"memory": memory, "compute": slices}),),
    )
