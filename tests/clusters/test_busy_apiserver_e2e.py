"""`up` on a running cluster whose API server is too busy to answer at once (a loaded 2-core machine, an
xdist run's peak) keeps the cluster: it waits for the API server, and never tears down live processes."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from clusters.local import processes, readiness
from clusters.local.provider import LocalProvider
from clusters.provider import ClusterStatus
from harness.farm_lock import farm_exclusive

pytestmark = pytest.mark.e2e
FROZEN_S = readiness.HTTP_TIMEOUT_S + 0.5
"""Longer than one readiness probe's timeout, so `up`'s first probe surely goes unanswered."""


def test_up_waits_for_a_busy_api_server_and_keeps_the_running_cluster(local_cluster: LocalProvider) -> None:
    apiserver = processes.read_pid(local_cluster.layout, "kube-apiserver")
    assert apiserver is not None
    result: list[ClusterStatus | BaseException] = []

    def up() -> None:
        try:
            result.append(local_cluster.up())
        except BaseException as exc:  # handed to the test thread
            result.append(exc)

    with farm_exclusive(local_cluster.kubeconfig()):
        os.kill(apiserver, signal.SIGSTOP)
        caller = threading.Thread(target=up)
        try:
            caller.start()
            caller.join(FROZEN_S)  # the API server cannot answer meanwhile
        finally:
            os.kill(apiserver, signal.SIGCONT)
        caller.join(120)
    assert result, "`up` did not return within 120 s of the API server answering again"
    status = result[0]
    assert isinstance(status, ClusterStatus), f"`up` failed: {status!r}"
    assert status.running
    assert processes.read_pid(local_cluster.layout, "kube-apiserver") == apiserver, "the cluster was replaced"
    assert local_cluster.layout.admin_kubeconfig.is_file()
