from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.plugin.driver import NodeDriver
from fakedevices.plugin.faults import Faults
from fakedevices.plugin.inventory import NodeInventory
from fakedevices.plugin.layout import PluginLayout
from fakedevices.plugin.server import PluginServer
from tests.plugin.instances import Instance
from tests.plugin.kit import DRIVER, NODE, ClaimStore, FakeKubelet
from tests.plugin.real_path import RealPathPlugin


class PluginUnderTest:
    def __init__(self, root: Path, claims: ClaimStore) -> None:
        self.root = root
        self.claims = claims
        self.layout = PluginLayout(DRIVER, root / "state", kubelet_root=root / "kubelet", cdi_dir=root / "cdi")
        self.cdi_dir = self.layout.cdi_dir
        self.farm = build_farm(load_farm_spec("small"))
        self.faults = Faults()
        self.server: PluginServer | None = None

    def start(self) -> PluginServer:
        driver = NodeDriver(NodeInventory(self.farm, NODE), self.claims, self.layout, faults=self.faults)
        self.server = PluginServer(driver)
        self.server.start()
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    @property
    def driver(self) -> NodeDriver:
        assert self.server is not None
        return self.server.driver


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """Unix socket paths must stay under 108 bytes: pytest's tmp_path can be too long."""
    path = Path(tempfile.mkdtemp(prefix="dfp-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def claims() -> ClaimStore:
    return ClaimStore()


@pytest.fixture
def plugin(short_tmp: Path, claims: ClaimStore) -> Iterator[PluginUnderTest]:
    under_test = PluginUnderTest(short_tmp, claims)
    under_test.start()
    yield under_test
    under_test.stop()


@pytest.fixture
def kubelet(plugin: PluginUnderTest) -> Iterator[FakeKubelet]:
    fake = FakeKubelet(plugin.layout.registration_socket)
    fake.register()
    yield fake
    fake.close()


@pytest.fixture
def start_plugin(short_tmp: Path) -> Iterator[Callable[..., RealPathPlugin]]:
    started: list[RealPathPlugin] = []

    def start(kubeconfig: Path, **options: Any) -> RealPathPlugin:
        plugin = RealPathPlugin(short_tmp / f"p{len(started)}", kubeconfig, **options)
        started.append(plugin)
        return plugin

    yield start
    for plugin in started:
        plugin.stop()


@pytest.fixture
def instances(short_tmp: Path, claims: ClaimStore) -> Iterator[Callable[..., Instance]]:
    """Starts instances of the node's plugin on one state dir (`instances(id)`; "" for the one without an ID),
    stopped at the test's end, newest first."""
    started: list[Instance] = []

    def start(instance: str = "") -> Instance:
        started.append(Instance(short_tmp, claims, instance))
        return started[-1]

    yield start
    for instance in reversed(started):
        instance.stop()
