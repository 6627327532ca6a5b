"""Instances of one node's plugin serving one state dir in this process, as `plugin run --instance` wires
them (an instance lock, the server with its peer watch), without an API server; each with a client that
plays the kubelet."""

from __future__ import annotations

import functools
from pathlib import Path

from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.model import Farm
from fakedevices.plugin.driver import NodeDriver
from fakedevices.plugin.instance_lock import InstanceLock
from fakedevices.plugin.inventory import NodeInventory
from fakedevices.plugin.layout import PluginLayout
from fakedevices.plugin.server import PluginServer
from tests.plugin.kit import DRIVER, NODE, Claim, ClaimStore, ContainerView, FakeKubelet, apply_cdi, opaque

TIME_SLICED = opaque({"kind": "GpuConfig", "sharing": {"strategy": "TimeSlicing"}}, ["gpu"])


@functools.cache
def small_farm() -> Farm:
    return build_farm(load_farm_spec("small"))


def layout_of(root: Path, instance: str = "") -> PluginLayout:
    return PluginLayout(DRIVER, root / "state", kubelet_root=root / "kubelet", cdi_dir=root / "cdi", instance=instance)


class Instance:
    def __init__(self, root: Path, claims: ClaimStore, instance: str = "") -> None:
        self.layout = layout_of(root, instance)
        self.lock = InstanceLock(self.layout.state_dir, instance)
        try:
            driver = NodeDriver(NodeInventory(small_farm(), NODE), claims, self.layout)
            self.server = PluginServer(driver, instance_lock=self.lock)
            self.server.start()
        except BaseException:
            self.lock.release()
            raise
        self.kubelet = FakeKubelet(self.layout.registration_socket)
        self.kubelet.register()
        self.stopped = False

    @property
    def driver(self) -> NodeDriver:
        return self.server.driver

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.kubelet.close()
            self.server.stop()

    def prepared(self, claim: Claim) -> ContainerView:
        """Prepare `claim` through this instance; what its container would see."""
        answer = self.kubelet.prepare(claim).claims[claim.uid]
        assert answer.error == "", answer.error
        return apply_cdi(self.layout.cdi_dir, [i for d in answer.devices for i in d.cdi_device_ids])


def works(view: ContainerView) -> bool:
    return view.client("gpu-run", "--n", "3").returncode == 0


def session_sockets(view: ContainerView) -> list[Path]:
    return [Path(v) for k, v in view.host_env().items() if k.endswith("_SOCKET")]
