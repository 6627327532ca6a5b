"""Orphaned claims: prepared here (checkpointed) while their ResourceClaim is gone, or no longer allocated
to this node.

The kubelet unprepares a claim after its last pod stopped, and retries; but a pod force-deleted while
the kubelet was down, or a kubelet that lost its own state, can leave a claim prepared that no one will
ever unprepare: its emulator sessions stay open, its CDI spec stays in the runtime's directory, its
devices stay busy. The collector finds such claims through the claim watch's cache, waits a grace
period (a claim just prepared from a GET may not be in the cache yet, and the kubelet may still
unprepare it itself), confirms with a GET, and unprepares each one as the kubelet would, logging it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from fakedevices.plugin.api import ClaimRef
from fakedevices.plugin.background_worker import BackgroundWorker
from fakedevices.plugin.checkpoint import PreparedClaim
from fakedevices.plugin.claim_cache import ClaimCache
from fakedevices.plugin.claims import ClaimError
from fakedevices.plugin.driver import NodeDriver

log = logging.getLogger(__name__)
DEFAULT_GRACE_S = 90.0
"""Longer than the kubelet's own 60 s unprepare reconcile loop: the kubelet gets the first chance."""


class OrphanCollector(BackgroundWorker):
    def __init__(
        self,
        driver: NodeDriver,
        cache: ClaimCache,
        grace: float = DEFAULT_GRACE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__("orphan-claims", stop_timeout_s=5.0)
        self.driver = driver
        self.cache = cache
        self.grace = grace
        self.clock = clock
        self._suspected: dict[str, float] = {}

    def _run(self) -> None:
        interval = min(10.0, max(0.2, self.grace / 4))
        while not self._stopping.wait(interval):
            try:
                self.sweep()
            except Exception:  # a bug here must not end the sweeps; the next one tries again
                log.exception("orphaned claims: sweep failed")

    def sweep(self) -> list[PreparedClaim]:
        """One pass: the claims unprepared because they were orphaned."""
        if not self.cache.synced:
            return []  # the watch is catching up: its absence of a claim means nothing yet
        now = self.clock()
        prepared = self.driver.checkpoint.claims()
        for uid in set(self._suspected) - {c.uid for c in prepared}:
            del self._suspected[uid]  # unprepared meanwhile (by the kubelet)
        collected = []
        for claim in prepared:
            if self.cache.holds(claim.namespace, claim.name, claim.uid):
                self._suspected.pop(claim.uid, None)
                continue
            since = self._suspected.setdefault(claim.uid, now)
            if now - since < self.grace:
                continue
            if self.driver.checkpoint.refresh(claim.uid) is None:
                self._suspected.pop(claim.uid, None)  # unprepared meanwhile (by another instance of the plugin)
                continue
            reason = self._orphaned_because(claim)
            if reason is None:
                self._suspected.pop(claim.uid, None)
                continue
            error = self.driver.unprepare([ClaimRef(claim.namespace, claim.uid, claim.name)])[claim.uid]
            if error:
                log.error("orphaned claim %s/%s (uid %s): unprepare failed: %s", *_names(claim), error)
                continue
            del self._suspected[claim.uid]
            devices = ", ".join(d.device for d in claim.devices) or "none"
            log.warning("unprepared orphaned claim %s/%s (uid %s, devices %s): %s", *_names(claim), devices, reason)
            collected.append(claim)
        return collected

    def _orphaned_because(self, claim: PreparedClaim) -> str | None:
        """Why the claim is orphaned, as the API server says now; None if it is not (or cannot be asked)."""
        try:
            obj = self.driver.claims.get(claim.namespace, claim.name)
        except ClaimError as exc:
            log.info("orphaned claim check of %s/%s postponed: %s", claim.namespace, claim.name, exc)
            return None
        if obj is None:
            return "the ResourceClaim no longer exists"
        if _uid(obj) != claim.uid:
            return f"the ResourceClaim was re-created (uid {_uid(obj)})"
        if not self.cache.relevant(obj):
            return f"the ResourceClaim is no longer allocated to node {self.cache.node}"
        return None


def _uid(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("uid", ""))


def _names(claim: PreparedClaim) -> tuple[str, str, str]:
    return claim.namespace, claim.name, claim.uid
