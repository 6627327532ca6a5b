"""Every suite test shares the driver's devices with the tests running beside it; a test marked
`devices_alone` (it takes them away, e.g. deletes the driver's slices) waits until it has them alone, and
tests that start meanwhile wait for it, so none of them times out on devices that are gone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness import device_lock
from harness.environment import DraEnvironment


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "devices_alone: the test takes the driver's devices away from other tests")


@pytest.fixture(autouse=True)
def _driver_devices(request: pytest.FixtureRequest) -> Iterator[None]:
    if "dra" not in request.fixturenames:
        yield
        return
    env: DraEnvironment = request.getfixturevalue("dra_env")
    alone = request.node.get_closest_marker("devices_alone") is not None
    lock = device_lock.exclusive if alone else device_lock.shared
    with lock(env.profile.driver, env.kube.kubeconfig):
        yield
