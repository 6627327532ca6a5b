"""The conformance suite against a real third-party driver: the upstream DRA test driver
(`k8s.io/kubernetes/test/e2e/dra/test-driver`, built by the toolchain), run next to the local cluster's
kubelet with nothing of drafarm's in it, tested only through a profile. It must pass; broken the ways
real drivers break, the suite must fail and name the problem.

Every test runs its own driver instance under a driver name of its own, so tests on other xdist workers
and other runs on the shared cluster never meet it."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from lightkube import Client, KubeConfig
from lightkube.resources.resource_v1 import DeviceClass, ResourceSlice

from clusters.local.host_driver import HostDriver, upstream_test_driver_argv
from clusters.local.provider import LocalProvider
from clusters.toolchain import lookup
from fakedevices.plugin.layout import DYNAMIC_CDI_DIR, STATE_ROOT
from harness.profiles import PROFILES_DIR
from tests.harness.conformance_run import ROOT, ConformanceRun, run_conformance

pytestmark = pytest.mark.e2e
PROFILE = PROFILES_DIR / "dra-test-driver.yaml"
CONFORMANCE_TESTS = 9
PREPARE_TEST = "test_prepare.py::test_container_sees_its_device_and_cdi_spec_exists_until_unprepare"


@pytest.fixture(scope="session")
def test_driver_binary(local_cluster: LocalProvider) -> Path:
    return lookup.program(local_cluster.cfg.pins, "kubernetes", "dra-test-driver")


@contextmanager
def upstream_driver(
    cluster: LocalProvider, binary: Path, case: str, cdi_dir: Path | None = None
) -> Iterator[HostDriver]:
    """One upstream test driver process named `<case>-<pid>.upstream.test` (short: its registration socket's
    path must fit a unix socket's 107 bytes), ready (registered with the kubelet, slices published) for the
    body; stopped, its DeviceClass and slices removed, afterwards."""
    driver = f"{case}-{os.getpid()}.upstream.test"
    node = cluster.nodes()[0]
    cdi = cdi_dir or DYNAMIC_CDI_DIR
    argv = upstream_test_driver_argv(binary, cluster.layout, node, driver, cdi_dir=cdi)
    host = HostDriver(cluster.layout, f"dra-test-driver-{case}-{os.getpid()}", driver, node, argv, (cdi,))
    try:
        with host:
            yield host
    finally:
        client = Client(KubeConfig.from_file(str(cluster.kubeconfig())))
        for obj in client.list(DeviceClass):
            if obj.metadata is not None and obj.metadata.name == class_name(driver):
                client.delete(DeviceClass, obj.metadata.name)
        for slice_ in client.list(ResourceSlice, fields={"spec.driver": driver}):
            if slice_.metadata is not None and slice_.metadata.name:
                client.delete(ResourceSlice, slice_.metadata.name)


def class_name(driver: str) -> str:
    return f"{driver.split('.', 1)[0]}-device"


def profile_for(driver: str, directory: Path, **spec_keys: object) -> Path:
    """The built-in dra-test-driver profile, for a driver of another name (and `spec_keys` set in its spec)."""
    document = yaml.safe_load(PROFILE.read_text())
    spec = document["spec"]
    spec.update(spec_keys)
    default = spec["driver"]
    spec["driver"] = driver
    for klass in spec["deviceClasses"].values():
        klass["name"] = class_name(driver)
        klass["selectors"] = [s.replace(default, driver) for s in klass["selectors"]]
    path = directory / "profile.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def conformance(
    cluster: LocalProvider, host: HostDriver, tmp_path: Path, *selection: str, **spec_keys: object
) -> ConformanceRun:
    profile = profile_for(host.driver, tmp_path, **spec_keys)
    return run_conformance(cluster, profile, tmp_path / "report", *selection)


@pytest.mark.runs_long
def test_the_upstream_test_driver_passes_the_conformance_suite(
    local_cluster: LocalProvider, test_driver_binary: Path, tmp_path: Path
) -> None:
    with upstream_driver(local_cluster, test_driver_binary, "good") as host:
        run = conformance(local_cluster, host, tmp_path)
    assert run.returncode == 0, run.summary()
    assert run.count("passed") == CONFORMANCE_TESTS, run.summary()
    assert run.count("total") == CONFORMANCE_TESTS, run.summary()


GENERIC_SKIP = re.compile(
    r"gives no deviceClasses\.|does not claim capability|needs drafarm's own fake farm|needs 2 nodes with"
)


def test_the_upstream_test_driver_passes_what_it_can_of_the_other_suites(
    local_cluster: LocalProvider, test_driver_binary: Path, tmp_path: Path
) -> None:
    """Allocation and sharing through the profile's gpu role: every test its devices (no attributes, no
    health, one node) allow passes; every other one is skipped naming the key, capability or node count."""
    suites = (ROOT / "suites" / "allocation", ROOT / "suites" / "sharing")
    with upstream_driver(local_cluster, test_driver_binary, "suites") as host:
        run = run_conformance(local_cluster, profile_for(host.driver, tmp_path), tmp_path / "report", suites=suites)
    assert run.returncode == 0 and run.count("failed") == run.count("error") == 0, run.summary()
    assert run.count("passed") >= 9, run.summary()
    odd = {n: r for n, r in run.skips().items() if not GENERIC_SKIP.search(r)}
    assert not odd, f"skipped for a reason the profile could fix:\n{odd}"


def _cdi_where_the_runtime_does_not_look(host: HostDriver) -> None:
    """Nothing to do after start: its CDI dir is not one containerd reads."""


def _prepare_fails(host: HostDriver) -> None:
    """Its CDI directory becomes a file: every NodePrepareResources fails writing the claim's spec."""
    (cdi,) = host.cdi_dirs
    shutil.rmtree(cdi)
    cdi.write_text("not a directory\n")


def _slices_withdrawn(host: HostDriver) -> None:
    """The driver hangs and its slices are deleted (as a kubelet restart does): they never come back."""
    host.freeze()
    client = Client(KubeConfig.from_file(str(host.layout.admin_kubeconfig)))
    for slice_ in client.list(ResourceSlice, fields={"spec.driver": host.driver}):
        if slice_.metadata is not None and slice_.metadata.name:
            client.delete(ResourceSlice, slice_.metadata.name)


BREAKS = {
    "nocdi": (_cdi_where_the_runtime_does_not_look, True),
    "prepfail": (_prepare_fails, True),
    "noslices": (_slices_withdrawn, False),
}


@pytest.mark.parametrize(
    ("case", "suite_test", "message"),
    [
        ("nocdi", PREPARE_TEST, "the driver must write a CDI spec for every CDI ID it returns"),
        ("prepfail", PREPARE_TEST, "failed to write CDI file"),
        ("noslices", "test_slices.py", "has no ResourceSlices"),
    ],
)
def test_a_broken_upstream_driver_is_caught_and_named(
    local_cluster: LocalProvider, test_driver_binary: Path, tmp_path: Path, case: str, suite_test: str, message: str
) -> None:
    breaks, private_cdi = BREAKS[case]
    cdi_dir = STATE_ROOT / f"{case}-{os.getpid()}-cdi" if private_cdi else None
    try:
        with upstream_driver(local_cluster, test_driver_binary, case, cdi_dir) as host:
            breaks(host)
            run = conformance(local_cluster, host, tmp_path, suite_test)
    finally:
        if cdi_dir is not None:
            if cdi_dir.is_dir():
                shutil.rmtree(cdi_dir)
            else:
                cdi_dir.unlink(missing_ok=True)
    assert run.returncode == 1, run.summary()
    assert run.count("failed") >= 1 and run.count("passed") == 0, run.summary()
    assert message in run.stdout, run.summary()


HUNG_DEADLINE_S = 15


@pytest.mark.runs_long
def test_a_hung_driver_fails_the_republish_test_which_puts_its_slices_back(
    local_cluster: LocalProvider, test_driver_binary: Path, tmp_path: Path
) -> None:
    with upstream_driver(local_cluster, test_driver_binary, "hung") as host:
        before = sorted(d["name"] for s in host.slices() for d in s["spec"]["devices"])
        host.freeze()
        # A frozen driver never republishes: a short deadline shows that as well as the default 90 s would.
        run = conformance(local_cluster, host, tmp_path, "test_republish.py", republishWithinSeconds=HUNG_DEADLINE_S)
        after = sorted(d["name"] for s in host.slices() for d in s["spec"]["devices"])
    assert run.returncode == 1 and run.count("failed") == 1, run.summary()
    assert "did not republish" in run.stdout and f"within {HUNG_DEADLINE_S}s" in run.stdout, run.summary()
    assert after == before, "the republish test must leave the driver's slices as it found them"
