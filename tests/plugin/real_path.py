"""drafarm's plugin on the real path, in this process: `drafarm plugin run`'s wiring (`build_plugin`)
against the real API server, with a private kubelet root and a gRPC client that plays the kubelet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.plugin.claim_cache import ClaimCache
from fakedevices.plugin.orphans import DEFAULT_GRACE_S
from fakedevices.plugin.runner import PluginOptions, build_plugin
from fakedevices.plugin.server import PluginServer
from tests.plugin.kit import NODE, Claim, FakeKubelet
from tests.polling import wait_for

DEADLINE_S = 30.0


class RealPathPlugin:
    def __init__(self, root: Path, kubeconfig: Path, orphan_grace_s: float = DEFAULT_GRACE_S) -> None:
        self.root = root
        options = PluginOptions(
            node=NODE,
            kubeconfig=kubeconfig,
            kubelet_root=root / "k",
            state_dir=root / "s",
            cdi_dir=root / "c",
            publish=False,
            orphan_grace_s=orphan_grace_s,
        )
        self.server: PluginServer = build_plugin(build_farm(load_farm_spec("small")), options)
        self.server.start()
        self.kubelet = FakeKubelet(self.server.layout.registration_socket)
        self.kubelet.register()

    @property
    def cache(self) -> ClaimCache:
        cache = self.server.driver.cache
        assert cache is not None
        return cache

    def prepare(self, namespace: str, name: str, uid: str) -> Any:
        return self.kubelet.prepare(Claim(name, [], namespace=namespace, uid=uid)).claims[uid]

    def unprepare(self, namespace: str, name: str, uid: str) -> None:
        response = self.kubelet.unprepare(Claim(name, [], namespace=namespace, uid=uid))
        assert response.claims[uid].error == ""

    def stop(self) -> None:
        self.kubelet.close()
        self.server.stop()


def until(what: str, condition: Callable[[], bool], seen: Callable[[], str], deadline_s: float = DEADLINE_S) -> None:
    """`wait_for`, polling faster: the plugin's cache and checkpoint change within milliseconds."""
    wait_for(condition, deadline_s, what, seen, interval=0.05)
