"""Fixtures every test directory shares: the run's one local cluster and its API client."""

from tests.clusters.conftest import kube, local_cluster, namespace  # noqa: F401
