"""When each pod and claim of a benchmark namespace reached each step, as watches saw them: a pod created,
bound to a node (scheduled), Running; a claim created, allocated. Times are `time.monotonic()`."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from clusters.virtual.api import JsonApi

Reached = Callable[[dict[str, Any]], bool]


class Recorder:
    def __init__(self, kubeconfig: Path, namespace: str) -> None:
        self.namespace = namespace
        self.created: dict[str, float] = {}
        self.scheduled: dict[str, float] = {}
        self.running: dict[str, float] = {}
        self.claim_created: dict[str, float] = {}
        self.allocated: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._apis = [JsonApi(kubeconfig), JsonApi(kubeconfig)]
        pods = self._recorder([(self.scheduled, _scheduled), (self.running, _running)])
        claims = self._recorder([(self.claim_created, _created), (self.allocated, _allocated)])
        self._threads = [
            threading.Thread(target=self._follow, args=(self._apis[0], "/api/v1", "pods", pods), daemon=True),
            threading.Thread(
                target=self._follow,
                args=(self._apis[1], "/apis/resource.k8s.io/v1", "resourceclaims", claims),
                daemon=True,
            ),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for api in self._apis:
            with contextlib.suppress(Exception):
                api.close()

    def mark_created(self, pod: str) -> None:
        with self._lock:
            self.created[pod] = time.monotonic()

    def count(self, table: str) -> int:
        with self._lock:
            return len(getattr(self, table))

    def _follow(self, api: JsonApi, prefix: str, plural: str, seen: Callable[[str, dict[str, Any]], None]) -> None:
        collection = f"{prefix}/namespaces/{self.namespace}/{plural}"
        while not self._stop.is_set():
            try:
                for kind, obj in api.watch(collection):
                    seen(kind, obj)
            except Exception:  # the watch ended or the client was closed: again, unless stopping
                if self._stop.wait(0.2):
                    return

    def _recorder(self, steps: Sequence[tuple[dict[str, float], Reached]]) -> Callable[[str, dict[str, Any]], None]:
        """What a watch event does: each step's table gets the object's name and the time it first reached it."""

        def record(kind: str, obj: dict[str, Any]) -> None:
            if kind == "DELETED":
                return
            now = time.monotonic()
            name = str(obj["metadata"]["name"])
            with self._lock:
                for times, reached in steps:
                    if name not in times and reached(obj):
                        times[name] = now

        return record


def _created(_obj: dict[str, Any]) -> bool:
    return True


def _scheduled(pod: dict[str, Any]) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName"))


def _running(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running"


def _allocated(claim: dict[str, Any]) -> bool:
    return bool((claim.get("status") or {}).get("allocation"))
