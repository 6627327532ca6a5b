"""Fixtures every test directory shares, registered once: the run's one local cluster (shared by every
xdist worker), its API client, a namespace, the farm on it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from lightkube import Client, KubeConfig
from lightkube.codecs import from_dict
from lightkube.core.exceptions import ApiError
from lightkube.resources.core_v1 import Namespace, ServiceAccount

from clusters import paths, shared
from clusters.local.provider import LocalProvider
from fakedevices.farm import open_farm
from harness.farm_lock import farm_exclusive
from harness.kube import Kube
from tests.polling import wait_for

FARM = "small"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "runs_long: a test of many minutes; it starts first, so the run does not wait on it"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("runs_long") is None)  # stable: the rest keep their order


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[LocalProvider]:
    if os.geteuid() != 0:
        pytest.skip("a local cluster runs a kubelet and containerd, which need root")
    provider = LocalProvider(k8s_version=os.environ.get("K8S_VERSION") or None)
    root = paths.state_root()
    shared.acquire(provider, root)
    try:
        running = provider.status().kubernetes_version
        wanted = provider.cfg.pins.kubernetes
        if running != wanted:
            pytest.fail(
                f"a cluster of {running} is already running, but K8S_VERSION asks for {wanted}: "
                "run `drafarm cluster down` first"
            )
        yield provider
    finally:
        shared.release(provider, root)


@pytest.fixture(scope="session")
def kube(local_cluster: LocalProvider) -> Client:
    return Client(KubeConfig.from_file(str(local_cluster.kubeconfig())), field_manager="drafarm-e2e")


@pytest.fixture
def namespace(kube: Client) -> Iterator[str]:
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    kube.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))

    def default_account() -> bool:
        try:
            kube.get(ServiceAccount, "default", namespace=name)
        except ApiError:
            return False
        return True

    wait_for(default_account, 30, f"service account default in {name}", lambda: "not created yet")
    yield name
    kube.delete(Namespace, name)


@pytest.fixture(scope="session")
def farm_cluster(local_cluster: LocalProvider) -> LocalProvider:
    """The local cluster with the `small` farm's plugin registered (started once, shared by workers). Not
    while a test of another process has deployed a farm of its own for a while (it holds the farm lock)."""
    with farm_exclusive(local_cluster.kubeconfig()):
        local_cluster.deploy_farm(open_farm(FARM))
    return local_cluster


@pytest.fixture(scope="session")
def hkube(farm_cluster: LocalProvider) -> Kube:
    return Kube(farm_cluster.kubeconfig())
