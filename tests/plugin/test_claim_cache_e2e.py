"""The plugin's watch-fed claim cache against the real API server: `drafarm plugin run`'s wiring
(`build_plugin`) in this process, its private kubelet root, a gRPC client that plays the kubelet.

Which read answered is shown by what the API server would have refused (an identity that may watch
claims but not GET one) or by holding the cache still (`frozen`: what a watch lagging behind the API
server looks like), never by asking the plugin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lightkube import Client

from clusters.local.provider import LocalProvider
from tests.plugin.api_claims import claim_gone, create_allocated, delete_claim, watch_only_kubeconfig
from tests.plugin.kit import NODE
from tests.plugin.real_path import RealPathPlugin, until
from tests.plugin.tcp_proxy import TcpProxy, api_server_address, through

pytestmark = pytest.mark.e2e


def in_cache(plugin: RealPathPlugin, namespace: str, name: str, uid: str) -> Callable[[], bool]:
    return lambda: plugin.cache.lookup(namespace, name, uid) is not None


def cache_view(plugin: RealPathPlugin) -> Callable[[], str]:
    return lambda: f"cache synced={plugin.cache.synced}, {len(plugin.cache)} claims of this node"


def test_a_prepare_is_served_from_the_cache_without_a_get(
    local_cluster: LocalProvider,
    kube: Client,
    namespace: str,
    start_plugin: Callable[[Path], RealPathPlugin],
    tmp_path: Path,
) -> None:
    watch_only = tmp_path / "watch-only.conf"
    rbac = watch_only_kubeconfig(kube, local_cluster.kubeconfig(), namespace, watch_only)
    try:
        plugin = start_plugin(watch_only)
        uid = create_allocated(kube, namespace, "cached", "gpu-0")
        until("the watch to bring the claim into the cache", in_cache(plugin, namespace, "cached", uid),
              cache_view(plugin))  # fmt: skip
        answer = plugin.prepare(namespace, "cached", uid)
        assert answer.error == "", answer.error
        assert [(d.pool_name, d.device_name) for d in answer.devices] == [(NODE, "gpu-0")]
        plugin.unprepare(namespace, "cached", uid)

        with plugin.cache.frozen():
            unseen = create_allocated(kube, namespace, "unseen", "gpu-1")
            refused = plugin.prepare(namespace, "unseen", unseen)
        assert "HTTP 403" in refused.error, f"this identity could GET claims, so the test shows nothing: {refused}"
    finally:
        for kind, name in rbac:
            kube.delete(kind, name)


def test_a_claim_the_cache_has_not_seen_is_read_with_a_get(
    local_cluster: LocalProvider, kube: Client, namespace: str, start_plugin: Callable[[Path], RealPathPlugin]
) -> None:
    plugin = start_plugin(local_cluster.kubeconfig())
    until("the claim watch to be in sync", lambda: plugin.cache.synced, cache_view(plugin))
    with plugin.cache.frozen():
        uid = create_allocated(kube, namespace, "fresh", "gpu-2")
        answer = plugin.prepare(namespace, "fresh", uid)
        assert plugin.cache.lookup(namespace, "fresh", uid) is None
    assert answer.error == "", answer.error
    assert [(d.pool_name, d.device_name) for d in answer.devices] == [(NODE, "gpu-2")]
    plugin.unprepare(namespace, "fresh", uid)


def test_a_claim_recreated_under_its_name_is_never_prepared_from_the_stale_entry(
    local_cluster: LocalProvider, kube: Client, namespace: str, start_plugin: Callable[[Path], RealPathPlugin]
) -> None:
    plugin = start_plugin(local_cluster.kubeconfig())
    old = create_allocated(kube, namespace, "reborn", "gpu-0")
    until("the watch to bring the claim into the cache", in_cache(plugin, namespace, "reborn", old), cache_view(plugin))
    with plugin.cache.frozen():
        delete_claim(kube, namespace, "reborn")
        until("the claim to be deleted", lambda: claim_gone(kube, namespace, "reborn"), lambda: "still there")
        new = create_allocated(kube, namespace, "reborn", "gpu-1")
        assert plugin.cache.lookup(namespace, "reborn", old) is not None, "the cache is not stale: nothing shown"
        answer = plugin.prepare(namespace, "reborn", new)
    assert answer.error == "", answer.error
    assert [(d.pool_name, d.device_name) for d in answer.devices] == [(NODE, "gpu-1")]

    until("the watch to show the new claim", in_cache(plugin, namespace, "reborn", new), cache_view(plugin))
    stale = plugin.prepare(namespace, "reborn", old)
    assert not stale.devices and "deleted and re-created" in stale.error, stale
    plugin.unprepare(namespace, "reborn", new)


def test_the_watch_lists_again_after_the_api_server_went_away_and_came_back(
    local_cluster: LocalProvider,
    kube: Client,
    namespace: str,
    start_plugin: Callable[[Path], RealPathPlugin],
    tmp_path: Path,
) -> None:
    admin = local_cluster.kubeconfig()
    proxy = TcpProxy(api_server_address(admin))
    proxy.start()
    try:
        plugin = start_plugin(through(admin, proxy.port, tmp_path / "proxied.conf"))
        until("the claim watch to be in sync", lambda: plugin.cache.synced, cache_view(plugin))
        proxy.cut()
        until("the watch to notice the API server is gone", lambda: not plugin.cache.synced, cache_view(plugin))
        uid = create_allocated(kube, namespace, "while-away", "gpu-3")
        away = plugin.prepare(namespace, "while-away", uid)
        assert not away.devices and "could not be reached" in away.error, away

        proxy.start()
        relisted = in_cache(plugin, namespace, "while-away", uid)
        until("the watch to list again and see the claim made meanwhile", relisted, cache_view(plugin))
        back = plugin.prepare(namespace, "while-away", uid)
        assert back.error == "", back.error
        assert [(d.pool_name, d.device_name) for d in back.devices] == [(NODE, "gpu-3")]
        plugin.unprepare(namespace, "while-away", uid)
    finally:
        proxy.cut()
