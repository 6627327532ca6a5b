"""The claim cache on its own: which claims it keeps, when it answers, and the watcher's backoff."""

from __future__ import annotations

import random
from typing import Any

from fakedevices.plugin.claim_cache import ClaimCache
from fakedevices.plugin.claim_watch import Backoff

DRIVER = "drafarm.dev"
NODE = "node-a"


def claim(
    name: str,
    uid: str,
    *,
    driver: str = DRIVER,
    pool: str = NODE,
    selector_node: str | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    allocation: dict[str, Any] = {
        "devices": {"results": [{"request": "gpu", "driver": driver, "pool": pool, "device": "gpu-0"}]}
    }
    if selector_node is not None:
        term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [selector_node]}]}
        allocation["nodeSelector"] = {"nodeSelectorTerms": [term]}
    meta: dict[str, Any] = {"namespace": "ns", "name": name, "uid": uid, "resourceVersion": "7"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "spec": {}, "status": {"allocation": allocation}}


def cache() -> ClaimCache:
    return ClaimCache(DRIVER, NODE, [NODE, "lobby"])


def test_keeps_claims_with_a_device_of_this_driver_on_its_pools_or_a_selector_naming_the_node() -> None:
    c = cache()
    assert c.relevant(claim("a", "1"))
    assert c.relevant(claim("b", "2", pool="lobby"))
    assert not c.relevant(claim("c", "3", pool="node-b"))
    assert not c.relevant(claim("d", "4", driver="other.example.com"))
    assert c.relevant(claim("e", "5", driver="other.example.com", selector_node=NODE))
    assert not c.relevant(claim("f", "6", pool="node-b", selector_node="node-b"))
    assert not c.relevant({"metadata": {"name": "g"}, "status": {}})
    by_label = claim("h", "7", driver="other.example.com")  # a network pool's selector: the hostname label
    term = {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-b", NODE]}]}
    by_label["status"]["allocation"]["nodeSelector"] = {"nodeSelectorTerms": [term]}
    assert c.relevant(by_label)


def test_answers_only_in_sync_and_only_for_the_uid_asked() -> None:
    c = cache()
    c.apply("ADDED", claim("a", "1"))
    assert c.lookup("ns", "a", "1") is None, "answered before the first list"
    c.replace([claim("a", "1"), claim("x", "9", pool="node-b")])
    assert len(c) == 1
    found = c.lookup("ns", "a", "1")
    assert found is not None and found["metadata"]["uid"] == "1"
    assert found["status"]["allocation"]["devices"]["results"][0]["device"] == "gpu-0"
    assert c.lookup("ns", "a", "2") is None
    c.lost_sync()
    assert c.lookup("ns", "a", "1") is None


def test_a_claim_recreated_under_its_name_replaces_the_old_entry_and_deletion_removes_it() -> None:
    c = cache()
    c.replace([claim("a", "1")])
    c.apply("ADDED", claim("a", "2"))
    assert c.lookup("ns", "a", "1") is None
    assert c.lookup("ns", "a", "2") is not None
    c.apply("MODIFIED", claim("a", "2", deleting=True))
    assert c.lookup("ns", "a", "2") is None, "a claim being deleted answered from the cache"
    c.apply("DELETED", claim("a", "2", deleting=True))
    assert len(c) == 0


def test_an_allocation_cleared_or_moved_away_removes_the_entry() -> None:
    c = cache()
    c.replace([claim("a", "1"), claim("b", "2")])
    c.apply("MODIFIED", {"metadata": {"namespace": "ns", "name": "a", "uid": "1"}, "status": {}})
    c.apply("MODIFIED", claim("b", "2", pool="node-b"))
    assert c.lookup("ns", "a", "1") is None and c.lookup("ns", "b", "2") is None
    assert len(c) == 0


def test_backoff_grows_to_its_limit_with_jitter_and_resets() -> None:
    backoff = Backoff(first=0.1, limit=10.0, rng=random.Random(1))
    pauses = [backoff.pause() for _ in range(10)]
    ceilings = [min(10.0, 0.1 * 2**i) for i in range(10)]
    assert all(ceiling / 2 <= pause <= ceiling for pause, ceiling in zip(pauses, ceilings, strict=True))
    assert pauses[-1] >= 5.0
    backoff.reset()
    assert backoff.pause() <= 0.1
