"""Fixtures every test directory shares: the run's one local cluster, its API client, the farm on it."""

from __future__ import annotations

import pytest

from clusters.local.provider import LocalProvider
from fakedevices.farm import open_farm
from harness.kube import Kube
from tests.clusters.conftest import kube, local_cluster, namespace  # noqa: F401

FARM = "small"


@pytest.fixture(scope="session")
def farm_cluster(local_cluster: LocalProvider) -> LocalProvider:  # noqa: F811
    """The local cluster with the `small` farm's plugin registered (started once, shared by workers)."""
    local_cluster.deploy_farm(open_farm(FARM))
    return local_cluster


@pytest.fixture(scope="session")
def hkube(farm_cluster: LocalProvider) -> Kube:
    return Kube(farm_cluster.kubeconfig())
