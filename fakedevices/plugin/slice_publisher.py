"""Keeps the API server's ResourceSlices equal to the farm: publishes, notices deletions, republishes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fakedevices.model import Inventory
from fakedevices.plugin.background_worker import BackgroundWorker
from fakedevices.plugin.faults import Faults
from fakedevices.plugin.slice_builder import (
    HASH_ANNOTATION,
    PoolPlacement,
    build_pool_slices,
    dropped_fields,
)

log = logging.getLogger(__name__)


class SliceApi(Protocol):
    def list_pool(self, pool: str) -> list[dict[str, Any]]: ...

    def create(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    def delete(self, name: str) -> None: ...


@dataclass(frozen=True)
class PublishedPool:
    name: str
    inventory: Inventory
    placement: PoolPlacement


@dataclass
class PublisherStatus:
    generations: dict[str, int] = field(default_factory=dict)
    writes: int = 0
    dropped: dict[str, str] = field(default_factory=dict)
    last_error: str = ""


class SlicePublisher(BackgroundWorker):
    def __init__(
        self,
        api: SliceApi,
        driver: str,
        pools: Sequence[PublishedPool],
        *,
        counters_separate: bool,
        faults: Faults | None = None,
        interval: float = 1.0,
    ) -> None:
        super().__init__("slice-publisher", stop_timeout_s=10.0)
        self.api = api
        self.driver = driver
        self.pools = list(pools)
        self.counters_separate = counters_separate
        self.faults = faults or Faults()
        self.interval = interval
        self.status = PublisherStatus()

    def sync(self) -> bool:
        """One reconcile of every pool; True when anything was written."""
        changed = False
        for pool in self.pools:
            changed |= self._sync_pool(pool)
        return changed

    def _desired(self, pool: PublishedPool, generation: int) -> list[dict[str, Any]]:
        slices = build_pool_slices(
            self.driver,
            pool.name,
            pool.inventory,
            pool.placement,
            generation,
            counters_separate=self.counters_separate,
        )
        if self.faults.snapshot().stale_slice_generation and len(slices) > 1:
            slices[-1]["spec"]["pool"]["generation"] = generation - 1
        return slices

    def _sync_pool(self, pool: PublishedPool) -> bool:
        existing = {s["metadata"]["name"]: s for s in self.api.list_pool(pool.name)}
        generation = self.status.generations.get(pool.name, 0)
        seen = [int(s["spec"]["pool"].get("generation", 0)) for s in existing.values()]
        for candidate in dict.fromkeys(g for g in (generation, max(seen, default=0)) if g):
            if not self._differs(self._desired(pool, candidate), existing):
                # Ours, or the same devices published by another instance of this node's plugin (an
                # upgrade runs two at once): taking its generation keeps the two from outbidding each other.
                self.status.generations[pool.name] = candidate
                return False
        generation = max([generation, *seen]) + 1
        desired = self._desired(pool, generation)
        # Slices that are missing (deleted, as a kubelet restart does) come last: once they are back,
        # the whole pool is at the new generation.
        for obj in sorted(desired, key=lambda o: o["metadata"]["name"] not in existing):
            name = obj["metadata"]["name"]
            stored = self.api.replace(obj) if name in existing else self.api.create(obj)
            self._check_dropped(obj, stored)
        for name in set(existing) - {o["metadata"]["name"] for o in desired}:
            self.api.delete(name)
        self.status.generations[pool.name] = generation
        self.status.writes += 1
        log.info("published pool %s: %d slices, generation %d", pool.name, len(desired), generation)
        return True

    @staticmethod
    def _differs(desired: list[dict[str, Any]], existing: dict[str, dict[str, Any]]) -> bool:
        if set(existing) != {o["metadata"]["name"] for o in desired}:
            return True
        for obj in desired:
            have = existing[obj["metadata"]["name"]]
            annotations = have.get("metadata", {}).get("annotations") or {}
            if annotations.get(HASH_ANNOTATION) != obj["metadata"]["annotations"][HASH_ANNOTATION]:
                return True
            if have["spec"]["pool"] != obj["spec"]["pool"]:
                return True
        return False

    def _check_dropped(self, sent: dict[str, Any], stored: dict[str, Any]) -> None:
        for field_name, gate in dropped_fields(sent, stored).items():
            if field_name not in self.status.dropped:
                log.error(
                    "the API server dropped %s from ResourceSlice %s: turn on feature gate %s in the "
                    "kube-apiserver, scheduler, controller-manager and kubelet",
                    field_name,
                    sent["metadata"]["name"],
                    gate,
                )
            self.status.dropped[field_name] = gate

    # ---- background loop -------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.sync()
                self.status.last_error = ""
            except Exception as exc:  # the API server may be briefly away; keep trying
                if str(exc) != self.status.last_error:
                    log.warning("publishing ResourceSlices failed (will retry): %s", exc)
                self.status.last_error = str(exc)
            self._stopping.wait(self.interval)

    def delete_all(self) -> None:
        for pool in self.pools:
            for obj in self.api.list_pool(pool.name):
                self.api.delete(obj["metadata"]["name"])
