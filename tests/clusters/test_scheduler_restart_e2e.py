"""kube-scheduler restarted while claims are pending: pods created while the scheduler could not run, then
the scheduler let go and restarted at once (allocations in flight): every pod runs, and every claim was
allocated exactly once (a watch sees each claim's allocation set once and never changed or cleared), no
device twice. The devices are a fleet of virtual nodes of the test's own driver, so no other test's
devices are involved."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.codecs import from_dict
from lightkube.resources.core_v1 import Pod
from lightkube.resources.resource_v1 import DeviceClass, ResourceClaim

from clusters.local import processes
from clusters.local import virtual as local_virtual
from clusters.local.provider import LocalProvider
from clusters.virtual.fleet import VirtualFleet
from clusters.virtual.nodes import FLEET_LABEL, TOLERATION
from fakedevices.dra_limits import counters_separate
from fakedevices.farm import build_farm
from fakedevices.farmspec.schema import parse_farm_spec
from harness.farm_lock import farm_exclusive
from tests.polling import wait_for

pytestmark = pytest.mark.e2e
NODES, GPUS = 2, 4
IMAGE = "drafarm.local/workload:1"  # never pulled: kwok runs the pods


@pytest.fixture
def fleet(local_cluster: LocalProvider, tmp_path: Path) -> Iterator[tuple[VirtualFleet, str]]:
    name = f"restart-{os.getpid()}"
    driver = f"{name}.drafarm.test"
    farm = build_farm(parse_farm_spec({
        "apiVersion": "drafarm.dev/v1alpha1", "kind": "Farm", "metadata": {"name": name},
        "spec": {"driver": driver, "nodeGroups": [{"name": "r", "namePattern": f"{name}-{{index}}", "count": NODES,
                                                   "virtual": True, "devices": {"gpu": {"count": GPUS}}}]},
    }))  # fmt: skip
    kwok = local_virtual.fleet(local_cluster.cfg, local_cluster.layout, name).kwok.binary
    fleet = VirtualFleet(name, local_cluster.kubeconfig(), kwok, tmp_path / "fleet")
    fleet.up(driver, farm.nodes, counters_separate=counters_separate(local_cluster.cfg.minor))
    try:
        yield fleet, driver
    finally:
        fleet.down()


class AllocationLog:
    """Every change of each claim's allocation in a namespace, as a watch delivers them."""

    def __init__(self, kube: Client, namespace: str) -> None:
        self.changes: dict[str, list[Any]] = {}
        self._kube = kube
        self._namespace = namespace
        self._thread = threading.Thread(target=self._follow, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _follow(self) -> None:
        for _kind, claim in self._kube.watch(ResourceClaim, namespace=self._namespace):
            name = claim.metadata.name if claim.metadata else "?"
            allocation = claim.status.allocation if claim.status else None
            results = (
                tuple((r.pool, r.device) for r in allocation.devices.results)
                if allocation and allocation.devices
                else None
            )
            seen = self.changes.setdefault(str(name), [None])
            if results != seen[-1]:
                seen.append(results)


def _pod(name: str, template: str, fleet: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {
            "nodeSelector": {FLEET_LABEL: fleet}, "tolerations": [TOLERATION],
            "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": template}],
            "containers": [{"name": "c", "image": IMAGE, "resources": {"claims": [{"name": "gpu"}]}}],
        },
    }  # fmt: skip


def test_a_scheduler_restarted_with_claims_pending_allocates_each_claim_once(
    local_cluster: LocalProvider, kube: Client, namespace: str, fleet: tuple[VirtualFleet, str]
) -> None:
    virtual, driver = fleet
    klass = f"{virtual.name}-gpu"
    selector = {"cel": {"expression": f'device.driver == "{driver}"'}}
    kube.create(from_dict({"apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": {"name": klass},
                           "spec": {"selectors": [selector]}}))  # fmt: skip
    try:
        kube.create(from_dict({
            "apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate", "metadata": {"name": "gpu"},
            "spec": {"spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": klass}}]}}},
        }), namespace=namespace)  # fmt: skip
        log = AllocationLog(kube, namespace)
        log.start()
        names = [f"p{i}" for i in range(NODES * GPUS)]
        scheduler = processes.read_pid(local_cluster.layout, "kube-scheduler")
        assert scheduler is not None
        with farm_exclusive(local_cluster.kubeconfig()):
            os.kill(scheduler, signal.SIGSTOP)
            try:
                for name in names:
                    kube.create(from_dict(_pod(name, "gpu", virtual.name)), namespace=namespace)
                wait_for(
                    lambda: len(log.changes) == len(names), 60, "the claims of every pod", lambda: str(log.changes)
                )
            finally:
                os.kill(scheduler, signal.SIGCONT)  # it goes on allocating, and is stopped mid-way
            local_cluster.restart("kube-scheduler")
        assert processes.read_pid(local_cluster.layout, "kube-scheduler") != scheduler

        def phases() -> list[str]:
            return [str(kube.get(Pod, n, namespace=namespace).status.phase) for n in names]

        wait_for(
            lambda: set(phases()) == {"Running"}, 120, "every pod Running after the restart", lambda: str(phases())
        )
        for claim, changes in log.changes.items():
            assert changes[0] is None and len(changes) == 2 and changes[1], f"{claim} allocated {changes[1:]}"
        devices = [changes[1][0] for changes in log.changes.values()]
        assert len(set(devices)) == len(devices) == len(names), f"a device allocated twice: {sorted(devices)}"
    finally:
        for pod in kube.list(Pod, namespace=namespace):
            if pod.metadata and pod.metadata.name:
                kube.delete(Pod, pod.metadata.name, namespace=namespace, grace_period=0)
        kube.delete(DeviceClass, klass)
