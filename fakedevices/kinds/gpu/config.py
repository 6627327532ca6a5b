"""The opaque configuration a claim or class gives a GPU: how the GPU is shared.

apiVersion: drafarm.dev/v1alpha1
kind: GpuConfig
sharing:
  strategy: TimeSlicing          # Exclusive (default) | TimeSlicing | SpacePartitioning
  timeSlicing: {interval: Short} # Default | Short | Medium | Long
  spacePartitioning: {partitionCount: 4}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fakedevices.kinds.opaque import parse_opaque
from fakedevices.spec.reader import Reader

STRATEGIES = ("Exclusive", "TimeSlicing", "SpacePartitioning")
INTERVALS = ("Default", "Short", "Medium", "Long")
MAX_SPACE_PARTITIONS = 16


@dataclass(frozen=True)
class GpuConfig:
    strategy: str = "Exclusive"
    interval: str | None = None
    partition_count: int | None = None

    def describe(self) -> str:
        if self.strategy == "TimeSlicing":
            return f"TimeSlicing/{self.interval}"
        if self.strategy == "SpacePartitioning":
            return f"SpacePartitioning/{self.partition_count}"
        return self.strategy


def parse_gpu_config(parameters: Mapping[str, Any], path: str) -> GpuConfig:
    return parse_opaque(parameters, path, "GpuConfig", _read)


def _read(r: Reader) -> GpuConfig:
    sharing = r.child("sharing")
    strategy = sharing.string("strategy", "Exclusive", choices=STRATEGIES)
    interval: str | None = None
    count: int | None = None
    if sharing.has("timeSlicing"):
        block = sharing.child("timeSlicing")
        interval = block.string("interval", "Default", choices=INTERVALS)
        block.finish()
        if strategy != "TimeSlicing":
            sharing.problem(sharing.at("timeSlicing"), block.data, "only allowed with strategy: TimeSlicing")
    elif strategy == "TimeSlicing":
        interval = "Default"
    if sharing.has("spacePartitioning"):
        block = sharing.child("spacePartitioning")
        count = block.integer("partitionCount", minimum=1, maximum=MAX_SPACE_PARTITIONS)
        block.finish()
        if strategy != "SpacePartitioning":
            sharing.problem(
                sharing.at("spacePartitioning"), block.data, "only allowed with strategy: SpacePartitioning"
            )
    elif strategy == "SpacePartitioning":
        sharing.problem(
            sharing.at("spacePartitioning.partitionCount"),
            None,
            f"required with strategy: SpacePartitioning (1 to {MAX_SPACE_PARTITIONS})",
        )
    sharing.raw("timeSlicing")
    sharing.raw("spacePartitioning")
    sharing.finish()
    return GpuConfig(strategy, interval, count)
