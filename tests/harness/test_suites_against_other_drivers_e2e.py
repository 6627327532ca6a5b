"""The conformance suite as vendors use it: run through a profile against a driver it has never seen,
and against drivers with common bugs, which it must catch with a message naming the problem.

The driver under test is a second instance of our plugin with its own driver name, so breaking it on
purpose leaves the farm that other tests use alone."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clusters.local.provider import LocalProvider
from fakedevices.plugin.control_client import PluginControl
from fakedevices.plugin.layout import PluginLayout
from harness.kube import Kube
from tests.harness.conformance_run import ConformanceRun, run_conformance
from tests.polling import wait_for

pytestmark = pytest.mark.e2e
DATA = Path(__file__).resolve().parent.parent / "data"
CONFORMANCE_TESTS = 9
DRIVER = "second.drafarm.dev"


@dataclass(frozen=True)
class SecondDriver:
    control: PluginControl
    profile: Path


@pytest.fixture(scope="module")
def second_driver(farm_cluster: LocalProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecondDriver]:
    """The second driver's plugin, registered with the real kubelet. Named per test process (its own
    driver name, DeviceClass and state directory), so xdist workers that both run tests of this module
    never share, or stop, one another's."""
    tag = f"second-{os.getpid()}"
    driver = f"{tag}.drafarm.dev"
    layout = PluginLayout.for_node(driver, tag, kubelet_root=farm_cluster.kubelet_root_dir)
    work = tmp_path_factory.mktemp(tag)
    farm, profile = work / "farm.yaml", work / "profile.yaml"
    farm.write_text((DATA / "second-driver-farm.yaml").read_text().replace(DRIVER, driver))
    profile.write_text(
        (DATA / "env-only-profile.yaml").read_text().replace(DRIVER, driver).replace("second-device", f"{tag}-device")
    )
    shutil.rmtree(layout.state_dir, ignore_errors=True)  # a test-owned driver starts with nothing prepared
    log_path = farm_cluster.layout.logs / f"{tag}-plugin.log"
    log_path.unlink(missing_ok=True)
    log = log_path.open("ab")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "harness", "plugin", "run", "--node", "second-worker-0",
            "--kube-node", farm_cluster.nodes()[0], "--farm", str(farm),
            "--kubeconfig", str(farm_cluster.kubeconfig()), "--kubelet-root", str(layout.kubelet_root),
            "--state-dir", str(layout.state_dir), "--log-format", "text",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip

    def registered() -> bool:
        if f"kubelet registered driver {driver}" in log_path.read_text(errors="replace"):
            return True
        if process.poll() is not None:
            pytest.fail(f"second driver exited:\n{log_path.read_text(errors='replace')[-3000:]}")
        return False

    wait_for(registered, 60, "the second driver to register", lambda: log_path.read_text(errors="replace")[-3000:])
    try:
        yield SecondDriver(PluginControl.at(layout.control_socket), profile)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
        for leaked in layout.cdi_specs():  # left by the leaky-bug test
            leaked.unlink()
        shutil.rmtree(layout.state_dir, ignore_errors=True)
        Kube(farm_cluster.kubeconfig()).delete("DeviceClass", f"{tag}-device")


def _conformance(cluster: LocalProvider, driver: SecondDriver, tmp_path: Path, *selection: str) -> ConformanceRun:
    return run_conformance(cluster, driver.profile, tmp_path / "report", *selection)


def _bug(driver: SecondDriver, bug: str, on: bool) -> None:
    driver.control.driver_bug(bug, on)


def test_a_driver_known_only_by_its_profile_passes(
    farm_cluster: LocalProvider, second_driver: SecondDriver, tmp_path: Path
) -> None:
    run = _conformance(farm_cluster, second_driver, tmp_path)
    assert run.returncode == 0, run.summary()
    assert run.count("passed") == CONFORMANCE_TESTS, run.summary()
    assert run.count("total") == CONFORMANCE_TESTS, run.summary()
    assert (tmp_path / "report" / "report.html").exists()


PREPARE_TEST = "test_prepare.py::test_container_sees_its_device_and_cdi_spec_exists_until_unprepare"


@pytest.mark.parametrize(
    ("bug", "suite_test", "message"),
    [
        ("skip-cdi-spec", PREPARE_TEST, "the driver must write a CDI spec for every CDI ID it returns"),
        ("leak-on-unprepare", PREPARE_TEST, "the driver leaks CDI specs on unprepare"),
        (
            "stale-slice-generation",
            "test_slices.py::test_pool_generation_and_slice_count_are_consistent",
            "have a stale generation",
        ),
    ],
)
def test_driver_bug_is_caught_and_named(
    farm_cluster: LocalProvider, second_driver: SecondDriver, tmp_path: Path, bug: str, suite_test: str, message: str
) -> None:
    _bug(second_driver, bug, True)
    try:
        run = _conformance(farm_cluster, second_driver, tmp_path, suite_test)
    finally:
        _bug(second_driver, bug, False)
    assert run.returncode == 1, run.summary()
    assert run.count("failed") == 1 and run.count("passed") == 0, run.summary()
    assert message in run.stdout, run.summary()
