"""The orphan collector's decisions, one sweep at a time on a clock the test moves: the grace period, the
GET that confirms, an API server that cannot be asked, a watch out of sync, a claim the kubelet
unprepared meanwhile. The real API server and the real wiring are in test_orphans_e2e.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from fakedevices.plugin.claim_cache import ClaimCache
from fakedevices.plugin.claims import ClaimError
from fakedevices.plugin.orphans import OrphanCollector
from tests.plugin.conftest import PluginUnderTest
from tests.plugin.kit import DRIVER, NODE, Claim, ClaimStore, FakeKubelet, result

GRACE = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Unreachable:
    def get(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        raise ClaimError(f"claim {namespace}/{name}: the API server could not be reached")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(claims: ClaimStore) -> ClaimCache:
    cache = ClaimCache(DRIVER, NODE, [NODE])
    cache.replace(claims.objects.values())
    return cache


@pytest.fixture
def collector(plugin: PluginUnderTest, cache: ClaimCache, clock: Clock) -> OrphanCollector:
    return OrphanCollector(plugin.driver, cache, GRACE, clock)


def _prepared(kubelet: FakeKubelet, claims: ClaimStore, name: str, device: str) -> Claim:
    claim = claims.add(Claim(name, [result("gpu", device)]))
    assert kubelet.prepare(claim).claims[claim.uid].error == ""
    return claim


def test_a_deleted_claim_is_unprepared_only_after_the_grace_period(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore, collector: OrphanCollector, clock: Clock
) -> None:
    claim = _prepared(kubelet, claims, "gone", "gpu-0")
    claims.delete(claim)
    assert collector.sweep() == []  # first seen missing now
    clock.now += GRACE - 1
    assert collector.sweep() == []
    assert plugin.driver.checkpoint.get(claim.uid) is not None
    clock.now += 1
    assert [c.uid for c in collector.sweep()] == [claim.uid]
    assert plugin.driver.checkpoint.get(claim.uid) is None
    assert list(plugin.cdi_dir.glob("*.json")) == []
    assert plugin.driver.runner.get("gpu-0").session_ids == []


def test_a_claim_the_get_still_finds_allocated_here_is_kept(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore, collector: OrphanCollector, clock: Clock
) -> None:
    """Prepared from a GET, never in the cache (a watch behind the API server): the GET tells it is live."""
    claim = _prepared(kubelet, claims, "unseen", "gpu-1")
    collector.sweep()
    clock.now += GRACE
    assert collector.sweep() == []
    assert plugin.driver.checkpoint.get(claim.uid) is not None


def test_a_claim_recreated_under_its_name_leaves_the_old_one_orphaned(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore, collector: OrphanCollector, clock: Clock
) -> None:
    old = _prepared(kubelet, claims, "reborn", "gpu-2")
    claims.add(Claim("reborn", [result("gpu", "gpu-2")]))  # same name, new UID
    collector.sweep()
    clock.now += GRACE
    assert [c.uid for c in collector.sweep()] == [old.uid]


def test_nothing_is_collected_while_the_api_server_cannot_be_asked_or_the_watch_is_out_of_sync(
    plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore, cache: ClaimCache, clock: Clock
) -> None:
    claim = _prepared(kubelet, claims, "doubt", "gpu-3")
    claims.delete(claim)
    unreachable = OrphanCollector(plugin.driver, cache, GRACE, clock)
    plugin.driver.claims = Unreachable()
    unreachable.sweep()
    clock.now += GRACE
    assert unreachable.sweep() == []
    plugin.driver.claims = claims
    cache.lost_sync()
    assert unreachable.sweep() == []
    assert plugin.driver.checkpoint.get(claim.uid) is not None


def test_a_claim_unprepared_by_the_kubelet_meanwhile_is_forgotten(
    kubelet: FakeKubelet, claims: ClaimStore, collector: OrphanCollector, clock: Clock
) -> None:
    claim = _prepared(kubelet, claims, "done", "gpu-0")
    claims.delete(claim)
    collector.sweep()
    assert kubelet.unprepare(claim).claims[claim.uid].error == ""
    clock.now += GRACE
    assert collector.sweep() == []
    again = _prepared(kubelet, claims, "done-again", "gpu-0")
    assert collector.sweep() == [], "a claim prepared later inherited an old suspicion"
    assert again.uid != claim.uid
