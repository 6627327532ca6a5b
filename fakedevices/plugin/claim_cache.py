"""The ResourceClaims allocated to this node, as the plugin's watch last saw them.

A prepare is answered from here only when the entry is for the UID the kubelet asks for, the claim is
not being deleted and the watch is in sync (listed, and connected since); otherwise the driver GETs the
claim. A claim deleted and re-created under the same name has a new UID, so an entry left from the old
one never answers for it. The allocation of a claim is immutable while set (to reallocate, the
scheduler clears it first, which the API server allows only once no pod holds the claim), so an entry
at the right UID that still has its allocation describes the claim the kubelet read before calling.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fakedevices.plugin.slice_builder import HOSTNAME_LABEL


@dataclass(frozen=True)
class CachedClaim:
    uid: str
    deleting: bool
    obj: Mapping[str, Any]


class ClaimCache:
    def __init__(self, driver: str, node: str, pools: Iterable[str]) -> None:
        self.driver = driver
        self.node = node
        self.pools = frozenset(pools)
        self._claims: dict[tuple[str, str], CachedClaim] = {}
        self._synced = False
        self._updates = threading.Lock()

    @property
    def synced(self) -> bool:
        return self._synced

    def __len__(self) -> int:
        return len(self._claims)

    def relevant(self, obj: Mapping[str, Any]) -> bool:
        """Allocated a device of this driver from one of this node's pools, or to this node by selector."""
        allocation = (obj.get("status") or {}).get("allocation") or {}
        for result in (allocation.get("devices") or {}).get("results") or ():
            if result.get("driver") == self.driver and result.get("pool") in self.pools:
                return True
        for term in (allocation.get("nodeSelector") or {}).get("nodeSelectorTerms") or ():
            for match in [*(term.get("matchFields") or ()), *(term.get("matchExpressions") or ())]:
                if (
                    match.get("key") in ("metadata.name", HOSTNAME_LABEL)
                    and match.get("operator") == "In"
                    and self.node in (match.get("values") or ())
                ):
                    return True
        return False

    def replace(self, objects: Iterable[Mapping[str, Any]]) -> None:
        """Everything a list returned; the cache is in sync from now on."""
        with self._updates:
            fresh = {}
            for obj in objects:
                entry = self._entry(obj)
                if entry is not None:
                    fresh[_key(obj)] = entry
            self._claims = fresh
            self._synced = True

    def apply(self, event: str, obj: Mapping[str, Any]) -> None:
        """One watch event (ADDED, MODIFIED, DELETED)."""
        with self._updates:
            key = _key(obj)
            entry = None if event == "DELETED" else self._entry(obj)
            if entry is None:
                self._claims.pop(key, None)
            else:
                self._claims[key] = entry

    def lost_sync(self) -> None:
        """The watch broke: events may be missed until the next list, so nothing is answered from here."""
        self._synced = False

    def lookup(self, namespace: str, name: str, uid: str) -> Mapping[str, Any] | None:
        if not self._synced:
            return None
        entry = self._claims.get((namespace, name))
        if entry is None or entry.uid != uid or entry.deleting:
            return None
        return entry.obj

    def holds(self, namespace: str, name: str, uid: str) -> bool:
        """Whether the watch has the claim at this UID allocated here (being deleted or not)."""
        entry = self._claims.get((namespace, name))
        return entry is not None and entry.uid == uid

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Updates wait until the block ends: the cache lags the API server, as a slow watch does."""
        with self._updates:
            yield

    def _entry(self, obj: Mapping[str, Any]) -> CachedClaim | None:
        if not self.relevant(obj):
            return None
        meta = obj.get("metadata") or {}
        kept = {
            "metadata": {
                "namespace": meta.get("namespace", ""),
                "name": meta.get("name", ""),
                "uid": meta.get("uid", ""),
                "resourceVersion": meta.get("resourceVersion", ""),
            },
            "status": {"allocation": (obj.get("status") or {}).get("allocation")},
        }
        return CachedClaim(str(meta.get("uid", "")), bool(meta.get("deletionTimestamp")), kept)


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace", "")), str(meta.get("name", ""))
