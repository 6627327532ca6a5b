"""The run's shared cluster without a cluster: holds are counted per `acquire`, so a join and leave nested
in a test process (a benchmark or a scenario in a worker) never ends that process's own hold; the last
holder takes down only a cluster a test process brought up, and only without `keep`."""

from __future__ import annotations

from pathlib import Path

from clusters import shared
from clusters.provider import ClusterProvider, ClusterStatus, FarmDeployment, StepReporter
from fakedevices.farm import FarmSource


class FakeCluster(ClusterProvider):
    name = "fake"

    def __init__(self, running: bool = False) -> None:
        self.running = running
        self.ups = 0
        self.downs = 0

    def up(self, report: StepReporter | None = None) -> ClusterStatus:
        self.running, self.ups = True, self.ups + 1
        return self.status()

    def down(self, report: StepReporter | None = None) -> None:
        self.running, self.downs = False, self.downs + 1

    def status(self) -> ClusterStatus:
        return ClusterStatus(name="unit", provider=self.name, running=self.running)

    def kubeconfig(self) -> Path:
        raise NotImplementedError

    def nodes(self) -> list[str]:
        return []

    def load_image(self, archive: Path) -> list[str]:
        raise NotImplementedError

    def deploy_farm(self, source: FarmSource, report: StepReporter | None = None) -> FarmDeployment:
        raise NotImplementedError

    def farm(self) -> FarmDeployment | None:
        return None

    def restart(self, component: str) -> None:
        raise NotImplementedError

    def collect_logs(self, dest: Path) -> list[Path]:
        return []


def test_a_nested_acquire_and_release_keep_the_outer_hold(tmp_path: Path) -> None:
    cluster = FakeCluster()
    shared.acquire(cluster, tmp_path)
    shared.acquire(cluster, tmp_path)
    assert cluster.ups == 1
    assert shared.release(cluster, tmp_path) is False
    assert shared.registered(cluster, tmp_path), "the inner release ended the outer hold"
    assert cluster.running and cluster.downs == 0
    assert shared.release(cluster, tmp_path) is True
    assert not shared.registered(cluster, tmp_path)
    assert cluster.downs == 1


def test_keep_leaves_the_cluster_up_after_the_last_release(tmp_path: Path) -> None:
    cluster = FakeCluster()
    shared.acquire(cluster, tmp_path, keep=True)
    assert shared.release(cluster, tmp_path) is False
    assert cluster.running and cluster.downs == 0


def test_a_cluster_running_before_the_tests_stays_up(tmp_path: Path) -> None:
    cluster = FakeCluster(running=True)
    shared.acquire(cluster, tmp_path)
    assert cluster.ups == 0
    assert shared.release(cluster, tmp_path) is False
    assert cluster.running and cluster.downs == 0
