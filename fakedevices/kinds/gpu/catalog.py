"""The fake GPU models a farm can carry. Names are invented; sizes resemble real accelerators."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuModel:
    name: str
    product: str
    architecture: str
    memory: str
    compute_slices: int
    default_partitions: tuple[tuple[str, int, str], ...]


MODELS: dict[str, GpuModel] = {
    m.name: m
    for m in (
        GpuModel(
            "df100",
            "DrafarmGPU DF100 40GB",
            "aurora",
            "40Gi",
            7,
            (("1g-5gb", 1, "5Gi"), ("2g-10gb", 2, "10Gi"), ("3g-20gb", 3, "20Gi")),
        ),
        GpuModel(
            "df200",
            "DrafarmGPU DF200 80GB",
            "aurora",
            "80Gi",
            7,
            (("1g-10gb", 1, "10Gi"), ("2g-20gb", 2, "20Gi"), ("3g-40gb", 3, "40Gi")),
        ),
        GpuModel(
            "df50",
            "DrafarmGPU DF50 24GB",
            "borealis",
            "24Gi",
            4,
            (("1g-6gb", 1, "6Gi"), ("2g-12gb", 2, "12Gi")),
        ),
    )
}
DRIVER_VERSIONS = ("550.54.15", "560.35.3", "570.86.10", "575.51.2")
