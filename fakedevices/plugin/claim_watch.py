"""Keeps the claim cache fed: list every claim, then watch from that version; when the API server
goes away, the cache stops answering and the watcher lists again after a growing, jittered pause."""

from __future__ import annotations

import logging
import random
from typing import Any

from fakedevices.plugin.background_worker import BackgroundWorker
from fakedevices.plugin.claim_api import ClaimApi, WatchExpired
from fakedevices.plugin.claim_cache import ClaimCache

log = logging.getLogger(__name__)


class Backoff:
    """0.1 s doubling to 10 s, each pause drawn from its upper half; back to the start after a success."""

    def __init__(self, first: float = 0.1, limit: float = 10.0, rng: random.Random | None = None) -> None:
        self.first = first
        self.limit = limit
        self._next = first
        self._rng = rng or random.Random()

    def pause(self) -> float:
        current = self._next
        self._next = min(self.limit, current * 2)
        return current * (0.5 + self._rng.random() / 2)

    def reset(self) -> None:
        self._next = self.first


class ClaimWatcher(BackgroundWorker):
    def __init__(self, api: ClaimApi, cache: ClaimCache, backoff: Backoff | None = None) -> None:
        super().__init__("claim-watch", stop_timeout_s=5.0)
        self.api = api
        self.cache = cache
        self.backoff = backoff or Backoff()

    def stop(self, timeout: float | None = None) -> None:
        self._stopping.set()  # before the interrupt: the ended watch must not be resumed
        self.api.interrupt_watch()
        super().stop(timeout)
        self.api.close()

    def _run(self) -> None:
        failing, listed = False, False
        while not self._stopping.is_set():
            try:
                items, version = self.api.list_all()
                self.cache.replace(items)
                self.backoff.reset()
                if failing or not listed:
                    log.info("claim watch: in sync (%d claims of this node)", len(self.cache))
                failing, listed = False, True
                self._follow(version)
            except WatchExpired:
                self.cache.lost_sync()
                continue
            except Exception as exc:  # the API server went away, refused, or sent garbage: list again
                self.cache.lost_sync()
                if self._stopping.is_set():
                    return
                pause = self.backoff.pause()
                if not failing:
                    log.warning("claim watch: %s; prepares GET their claims until it recovers", _one_line(exc))
                failing = True
                self._stopping.wait(pause)

    def _follow(self, version: str) -> None:
        """Watch until stopped, resuming each watch the server ends at the last version seen."""
        while not self._stopping.is_set():
            for kind, obj in self.api.watch(version):
                version = _version(obj) or version
                if kind != "BOOKMARK":
                    self.cache.apply(kind, obj)


def _version(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
