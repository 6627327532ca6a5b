"""When each pod and claim of a benchmark namespace reached each step, as watches saw them: a pod created,
bound to a node (scheduled), Running; a claim created, allocated. Times are `time.monotonic()`."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clusters.virtual.api import JsonApi


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
        self._threads = [
            threading.Thread(target=self._follow, args=(self._apis[0], "/api/v1", "pods", self._pod), daemon=True),
            threading.Thread(
                target=self._follow,
                args=(self._apis[1], "/apis/resource.k8s.io/v1", "resourceclaims", self._claim),
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

    def _pod(self, kind: str, obj: dict[str, Any]) -> None:
        if kind == "DELETED":
            return
        now = time.monotonic()
        name = str(obj["metadata"]["name"])
        with self._lock:
            if (obj.get("spec") or {}).get("nodeName") and name not in self.scheduled:
                self.scheduled[name] = now
            if (obj.get("status") or {}).get("phase") == "Running" and name not in self.running:
                self.running[name] = now

    def _claim(self, kind: str, obj: dict[str, Any]) -> None:
        if kind == "DELETED":
            return
        now = time.monotonic()
        name = str(obj["metadata"]["name"])
        with self._lock:
            self.claim_created.setdefault(name, now)
            if (obj.get("status") or {}).get("allocation") and name not in self.allocated:
                self.allocated[name] = now
