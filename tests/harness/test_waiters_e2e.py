"""Waiters stop as soon as the cluster says the wait can never end well: a selector the allocator cannot
evaluate on the driver's devices fails the wait in seconds, with the scheduler's CEL error."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from clusters.local.provider import LocalProvider
from harness import builders as b
from harness.kube import Kube
from harness.waiters import CannotSucceed, Waiter

pytestmark = pytest.mark.e2e


@pytest.fixture
def device_class(farm_cluster: LocalProvider, hkube: Kube) -> Iterator[str]:
    name = f"waiters-{uuid.uuid4().hex[:6]}.drafarm.dev"
    hkube.create(b.device_class(name, cel='device.driver == "drafarm.dev"'))
    yield name
    hkube.delete("DeviceClass", name)


def test_a_cel_runtime_error_ends_the_wait_at_once(hkube: Kube, namespace: str, device_class: str) -> None:
    missing = 'device.attributes["drafarm.dev"].noSuchAttribute == "x"'
    hkube.create(b.claim("dev", b.request("dev", device_class, cel=missing), namespace=namespace))
    main = b.container("main", ["true"], claims=["dev"])
    hkube.create(b.pod("user", main, claims={"dev": "dev"}, image="drafarm.local/workload:1", namespace=namespace))
    start = time.monotonic()
    with pytest.raises(CannotSucceed, match="CEL runtime error") as caught:
        Waiter(hkube, namespace).pod_running("user", timeout=120)
    assert time.monotonic() - start < 60, "the waiter should give up long before its timeout"
    assert "no such key" in str(caught.value)
