"""Orphaned claims against the real API server: a claim prepared on this node whose ResourceClaim is
deleted, or allocated to another node, with no kubelet left to unprepare it, is unprepared by the plugin
itself after the grace period: sessions closed, CDI spec and checkpoint entry gone, one log line each.
A claim still allocated here is never touched, even when the watch has not shown it yet."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.resources.resource_v1 import ResourceClaim
from lightkube.types import PatchType

from clusters.local.provider import LocalProvider
from tests.plugin.api_claims import claim_gone, create_allocated, delete_claim
from tests.plugin.kit import DRIVER
from tests.plugin.real_path import RealPathPlugin, until

pytestmark = pytest.mark.e2e
GRACE_S = 2.0


def _checkpointed(plugin: RealPathPlugin, uid: str) -> Path:
    return plugin.server.driver.checkpoint.path_for(uid)


def _cdi_specs(plugin: RealPathPlugin, uid: str) -> list[Path]:
    return [spec for spec in [plugin.server.layout.cdi_spec(uid)] if spec.exists()]


def _endpoints(plugin: RealPathPlugin, uid: str) -> list[Path]:
    """The session sockets the checkpoint says the claim's containers use."""
    entry = json.loads(_checkpointed(plugin, uid).read_text())
    body = entry.get("claim", entry)
    return [Path(d["endpoint"]) for d in body["devices"] if d.get("endpoint")]


def _prepared(plugin: RealPathPlugin, namespace: str, name: str, uid: str) -> list[Path]:
    answer = plugin.prepare(namespace, name, uid)
    assert answer.error == "", answer.error
    endpoints = _endpoints(plugin, uid)
    assert endpoints and all(p.exists() for p in endpoints), endpoints
    assert _cdi_specs(plugin, uid), f"no CDI spec for {name}"
    return endpoints


def _reallocate_elsewhere(kube: Client, namespace: str, name: str) -> None:
    """What the scheduler does to move a claim: clear the allocation, then allocate another node's device."""
    kube.patch(ResourceClaim.Status, name, {"status": {"allocation": None}}, namespace=namespace,
               patch_type=PatchType.MERGE)  # fmt: skip
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["another-node"]}]}
    allocation = {
        "devices": {"results": [{"request": "gpu", "driver": DRIVER, "pool": "another-node", "device": "gpu-0"}]},
        "nodeSelector": {"nodeSelectorTerms": [term]},
    }
    kube.patch(ResourceClaim.Status, name, {"status": {"allocation": allocation}}, namespace=namespace,
               patch_type=PatchType.MERGE)  # fmt: skip


def _state(plugin: RealPathPlugin, *uids: str) -> Callable[[], str]:
    return lambda: ", ".join(f"{u}: checkpointed={_checkpointed(plugin, u).exists()}" for u in uids)


def test_deleted_and_reallocated_claims_are_unprepared_and_a_live_one_is_kept(
    local_cluster: LocalProvider,
    kube: Client,
    namespace: str,
    start_plugin: Callable[..., RealPathPlugin],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="fakedevices.plugin.orphans")
    plugin = start_plugin(local_cluster.kubeconfig(), orphan_grace_s=GRACE_S)
    uids = {name: create_allocated(kube, namespace, name, device)
            for name, device in (("kept", "gpu-0"), ("deleted", "gpu-1"), ("moved", "gpu-2"))}  # fmt: skip
    until("the claims in the watch's cache", lambda: all(plugin.cache.holds(namespace, n, u) for n, u in uids.items()),
          lambda: f"{len(plugin.cache)} claims cached")  # fmt: skip
    sessions = {name: _prepared(plugin, namespace, name, uid) for name, uid in uids.items()}

    delete_claim(kube, namespace, "deleted")
    until("the claim to be deleted", lambda: claim_gone(kube, namespace, "deleted"), lambda: "still there")
    _reallocate_elsewhere(kube, namespace, "moved")

    gone = ("deleted", "moved")
    collected = lambda: not any(_checkpointed(plugin, uids[n]).exists() for n in gone)  # noqa: E731
    until("the orphaned claims to be unprepared", collected, _state(plugin, *uids.values()), deadline_s=30 + GRACE_S)
    for name in gone:
        assert not _cdi_specs(plugin, uids[name]), f"{name}: CDI spec left behind"
        assert not any(p.exists() for p in sessions[name]), f"{name}: emulator session left open"
    logged = [r.getMessage() for r in caplog.records if "unprepared orphaned claim" in r.getMessage()]
    assert any(f"{namespace}/deleted" in m and "no longer exists" in m for m in logged), logged
    assert any(f"{namespace}/moved" in m and "no longer allocated to node" in m for m in logged), logged

    assert _checkpointed(plugin, uids["kept"]).exists(), "a claim still allocated here was unprepared"
    assert _cdi_specs(plugin, uids["kept"]) and all(p.exists() for p in sessions["kept"])
    plugin.unprepare(namespace, "kept", uids["kept"])


def test_a_claim_the_watch_has_not_shown_is_confirmed_with_a_get_and_kept(
    local_cluster: LocalProvider, kube: Client, namespace: str, start_plugin: Callable[..., RealPathPlugin]
) -> None:
    """While the cache lags, both claims look orphaned to it; the GET after the grace period tells the live
    one from the deleted one, which was suspected no earlier than it."""
    plugin = start_plugin(local_cluster.kubeconfig(), orphan_grace_s=GRACE_S)
    until("the claim watch to be in sync", lambda: plugin.cache.synced, lambda: "not in sync")
    with plugin.cache.frozen():
        live = create_allocated(kube, namespace, "unseen-live", "gpu-0")
        _prepared(plugin, namespace, "unseen-live", live)
        dead = create_allocated(kube, namespace, "unseen-dead", "gpu-1")
        _prepared(plugin, namespace, "unseen-dead", dead)
        delete_claim(kube, namespace, "unseen-dead")
        until("the deleted claim to be unprepared", lambda: not _checkpointed(plugin, dead).exists(),
              _state(plugin, live, dead), deadline_s=30 + GRACE_S)  # fmt: skip
        assert not plugin.cache.holds(namespace, "unseen-live", live), "the cache moved: nothing shown"
    assert _checkpointed(plugin, live).exists(), "a live claim the cache had not seen was unprepared"
    plugin.unprepare(namespace, "unseen-live", live)
