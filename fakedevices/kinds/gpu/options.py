"""The `gpu` block of a farm spec's node group."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fakedevices.dra_limits import MAX_DEVICES_PER_SLICE_WITH_COUNTERS
from fakedevices.kinds.gpu.catalog import MODELS
from fakedevices.quantity import format_bytes, parse_quantity
from fakedevices.spec.reader import Reader

MAX_GPUS_PER_NODE = 64
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
PROFILE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$")


@dataclass(frozen=True)
class PartitionProfile:
    name: str
    compute_slices: int
    memory_bytes: int


@dataclass(frozen=True)
class MemorySharing:
    """The last `gpus` GPUs of a node accept several allocations, each taking a share of memory."""

    gpus: int
    minimum_bytes: int
    step_bytes: int


@dataclass(frozen=True)
class GpuOptions:
    count: int
    model: str
    memory_bytes: int
    compute_slices: int
    driver_version: str | None
    interconnect_domains: int
    pcie_roots: int
    partitions: tuple[PartitionProfile, ...]
    memory_sharing: MemorySharing | None

    def partitions_per_gpu(self) -> int:
        return sum(self.instances(p) for p in self.partitions)

    def instances(self, profile: PartitionProfile) -> int:
        return min(self.compute_slices // profile.compute_slices, self.memory_bytes // profile.memory_bytes)


MAX_MEMORY_BYTES = 2**50  # 1Pi: beyond any device, and exact in a ResourceSlice's int64 quantity


def _bytes(value: object) -> int:
    amount = parse_quantity(value)  # type: ignore[arg-type]
    if amount <= 0 or amount.denominator != 1 or amount > MAX_MEMORY_BYTES:
        raise ValueError("not a positive whole number of bytes up to 1Pi")
    return int(amount)


def parse_gpu_options(r: Reader) -> GpuOptions:
    count = r.integer("count", minimum=0, maximum=MAX_GPUS_PER_NODE)
    model_name = r.string("model", "df100", choices=tuple(MODELS))
    model = MODELS.get(model_name, MODELS["df100"])
    memory = r.parsed("memory", _bytes(model.memory), _bytes, "a positive quantity of bytes up to 1Pi, such as 40Gi")
    slices = r.integer("computeSlices", model.compute_slices, minimum=1, maximum=64)
    driver_version = r.string(
        "driverVersion", "", pattern=SEMVER, pattern_help="must be a semantic version such as 550.54.15"
    )
    domains = r.integer("interconnectDomains", 1, minimum=1, maximum=max(count, 1))
    roots = r.integer("pcieRoots", 1, minimum=1, maximum=max(count, 1))
    options = GpuOptions(
        count=count,
        model=model_name,
        memory_bytes=memory,
        compute_slices=slices,
        driver_version=driver_version or None,
        interconnect_domains=domains,
        pcie_roots=roots,
        partitions=_parse_partitions(r, model.name, memory, slices),
        memory_sharing=_parse_memory_sharing(r.child("memorySharing"), count, memory),
    )
    _check_partition_layout(r, options)
    r.finish()
    return options


def _parse_partitions(r: Reader, model: str, memory: int, slices: int) -> tuple[PartitionProfile, ...]:
    raw = r.raw("partitions")
    if raw is True:
        return tuple(PartitionProfile(n, c, _bytes(m)) for n, c, m in MODELS[model].default_partitions)
    if raw is None or raw is False or raw == []:
        return ()
    profiles: list[PartitionProfile] = []
    seen: set[str] = set()
    for item in r.items("partitions"):
        name = item.string("name", pattern=PROFILE_NAME, pattern_help="a short DNS label such as 1g-5gb")
        compute = item.integer("computeSlices", minimum=1, maximum=64)
        mem = item.parsed("memory", 0, _bytes, "a positive quantity of bytes up to 1Pi, such as 10Gi")
        if not item.has("memory"):
            item.problem(item.at("memory"), None, "this field is required: a quantity such as 10Gi")
        if mem == 0:
            item.finish()
            continue  # reported above; a profile without memory has no layout to check
        if name in seen:
            item.problem(item.at("name"), name, "duplicate partition profile name; each profile needs its own")
        seen.add(name)
        if compute > slices:
            item.problem(
                item.at("computeSlices"),
                compute,
                f"impossible partition: the GPU has only {slices} compute slices",
            )
        if mem > memory:
            item.problem(
                item.at("memory"),
                format_bytes(mem),
                f"impossible partition: the GPU has only {format_bytes(memory)} of memory",
            )
        item.finish()
        profiles.append(PartitionProfile(name, compute, mem))
    return tuple(profiles)


def _parse_memory_sharing(r: Reader, count: int, memory: int) -> MemorySharing | None:
    if not r.data:
        r.finish()
        return None
    gpus = r.integer("gpus", 1, minimum=1, maximum=max(count, 1))
    minimum = r.parsed("minimum", 2**30, _bytes, "a positive quantity of bytes up to 1Pi, such as 1Gi")
    step = r.parsed("step", minimum, _bytes, "a positive quantity of bytes up to 1Pi, such as 1Gi")
    if minimum > memory:
        r.problem(r.at("minimum"), format_bytes(minimum), f"at most the GPU's memory, {format_bytes(memory)}")
    r.finish()
    return MemorySharing(gpus, minimum, step)


def _check_partition_layout(r: Reader, o: GpuOptions) -> None:
    if not o.partitions:
        return
    per_gpu = o.partitions_per_gpu() + 1
    if per_gpu > MAX_DEVICES_PER_SLICE_WITH_COUNTERS:
        r.problem(
            r.at("partitions"),
            per_gpu,
            f"a GPU and its partitions must fit one ResourceSlice with counters "
            f"(at most {MAX_DEVICES_PER_SLICE_WITH_COUNTERS} devices); use fewer or larger profiles",
        )
    if o.memory_sharing is not None and o.memory_sharing.gpus >= o.count:
        r.problem(
            r.at("memorySharing.gpus"),
            o.memory_sharing.gpus,
            f"with partitions on, at most {o.count - 1} of the {o.count} GPUs can be memory-shared "
            "(shared GPUs are published without partitions)",
        )
