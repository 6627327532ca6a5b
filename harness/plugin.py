"""The drafarm pytest plugin (entry point `pytest11: drafarm`): options, markers and fixtures.

Fixtures: `dra_env` (the run's cluster and driver profile, set up once per process; under xdist one
cluster is shared by all workers), `dra` (a fresh namespace and builders for one test) and
`farm_control` (fault injection into the built-in fake farm).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube.operators import exists

from clusters import provider as providers
from clusters.pids import alive
from clusters.provider import ClusterError
from fakedevices.plugin.control_client import ControlError
from fakedevices.plugin.layout import CDI_SPEC_DIRS
from harness import device_lock
from harness.dratest import DraTest, FarmControl
from harness.environment import DraEnvironment, HarnessOptions, OptionError, close_environment, open_environment
from harness.image_check import ImageError, check_image_runs
from harness.kube import Kube
from harness.profiles import device_class_object
from harness.report import set_farm_snapshot, set_run_metadata, snapshot_from_cluster

pytest_plugins = ["harness.report.hooks", "harness.cluster_turns"]

MARKERS = {
    "e2e": "needs a real cluster (slow); deselect with -m 'not e2e'",
    "suite": "a test of suites/ (added automatically)",
    "smoke": "part of the small slice of the suites that `make test` runs",
    "dra_gate(name)": "needs the named DRA feature gate on the cluster; skipped with the reason otherwise",
    "capability(name)": "needs the driver profile to claim this capability; skipped otherwise",
    "needs_farm": "needs the built-in fake farm (fault control, known devices); skipped for other drivers",
    "min_nodes(n)": "needs n nodes with the driver's devices; skipped with the reason on smaller clusters",
    "multi_node": "a test with min_nodes (added automatically): `-m multi_node` selects the multi-node slice",
    "scenario_heavy": "a scenario end to end that holds the farm's devices for minutes (`make scenarios`)",
    "devices_alone": "the test takes the driver's devices away from other tests (it waits to have them alone)",
    "scenario": "a scenario file of a scenarios/ folder, run as a test (docs/scenarios.md)",
    "cluster_exclusive": "the test takes the cluster away for a moment (a restart of the API server or "
    "containerd): it runs while no other test does (harness/cluster_turns.py)",
    "own_cluster": "the test brings up a cluster of its own under another name: it takes no turn on the "
    "shared cluster, and an exclusive test there does not wait for it (harness/cluster_turns.py)",
}
_OPTIONS_KEY = pytest.StashKey[HarnessOptions]()
SUITES = Path(__file__).resolve().parent.parent / "suites"
OWNER_LABEL = "drafarm.dev/test-owner"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drafarm")
    group.addoption(
        "--drafarm-cluster",
        default=os.environ.get("PROVIDER") or "local",
        help="the provider whose cluster to bring up (local, the default; $PROVIDER), or `existing` "
        "with --drafarm-kubeconfig",
    )
    group.addoption("--drafarm-kubeconfig", default=None, help="test an existing cluster through this kubeconfig")
    group.addoption("--drafarm-k8s-version", default=None, help="Kubernetes version of the local cluster")
    group.addoption(
        "--drafarm-farm",
        default="small",
        help="farm spec deployed on the local cluster (path or example name; 'none' for no farm)",
    )
    group.addoption(
        "--drafarm-nodes",
        default=os.environ.get("NODES") or None,
        help="at most this many nodes (kind: workers) for the farm's nodes, the first ones in the spec ($NODES); "
        "default: one per farm node",
    )
    group.addoption("--drafarm-profile", default="drafarm", help="driver profile: a built-in name or a YAML path")
    group.addoption("--drafarm-keep-cluster", action="store_true", help="leave the cluster up after the run")
    group.addoption("--drafarm-gates", default="", help="override detected feature gates: NAME=true,NAME=false")
    group.addoption(
        "--drafarm-node-cdi-dir",
        action="append",
        default=[],
        help="with --drafarm-kubeconfig: a node CDI spec directory this host can read (repeat it, or separate "
        f"with commas, for {' and '.join(map(str, CDI_SPEC_DIRS))}); enables the CDI-spec checks; local clusters "
        "have it already",
    )
    group.addoption(
        "--drafarm-image",
        default=None,
        help="the image the suites' pods run (a POSIX shell with env and grep); default: the profile's "
        "spec.image, else drafarm's own workload image (present on drafarm's clusters only)",
    )
    group.addoption(
        "--drafarm-driver-log",
        default=None,
        help="the driver's log file on this host: its tail is shown in every failure's diagnostics",
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, help_text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")
    if _runs_suites(config):
        try:
            options = HarnessOptions.from_config(config)
        except OptionError as exc:
            raise pytest.UsageError(str(exc)) from exc
        config.stash[_OPTIONS_KEY] = options
        if hasattr(config, "workerinput") or config.option.collectonly:
            return
        if options.kubeconfig is not None:
            _check_image(options)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Before any test process starts (xdist starts its workers after this): build what the run's cluster
    needs, a line per step, so a first run shows its build instead of looking hung."""
    config = session.config
    options = config.stash.get(_OPTIONS_KEY, None)
    if options is None or options.kubeconfig is not None or hasattr(config, "workerinput"):
        return
    if config.option.collectonly:
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    started = time.monotonic()

    def say(text: str) -> None:
        if reporter is not None:
            reporter.write_line(f"drafarm: {text}")

    try:
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            providers.get(options.cluster, k8s_version=options.k8s_version, workers=options.workers).prepare(say)
    except ClusterError as exc:
        pytest.exit(f"building what the {options.cluster} cluster needs failed: {exc}", returncode=4)
    set_run_metadata(config, build_s=round(time.monotonic() - started, 1))


def _check_image(options: HarnessOptions) -> None:
    """On a cluster drafarm did not make, the pods' image must run before any test starts."""
    try:
        assert options.kubeconfig is not None
        check_image_runs(Kube(options.kubeconfig), options.workload_image)
    except ImageError as exc:
        raise pytest.UsageError(str(exc)) from exc


def _runs_suites(config: pytest.Config) -> bool:
    """Whether this run may need `dra_env` (its options are checked up front, before any test starts)."""
    return any(Path(a.split("::")[0]).resolve().is_relative_to(SUITES) for a in config.args) or bool(
        config.getoption("drafarm_kubeconfig")
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Scenario files under a `scenarios/` folder are tests too (harness/scenario/pytest_items.py)."""
    from harness.scenario.pytest_items import ScenarioFile, is_scenario_file

    return ScenarioFile.from_parent(parent, path=file_path) if is_scenario_file(file_path) else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "suites" in parts:
            item.add_marker(pytest.mark.suite)
            item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("min_nodes") is not None:
            item.add_marker(pytest.mark.multi_node)


@pytest.fixture(scope="session")
def dra_env(pytestconfig: pytest.Config) -> Iterator[DraEnvironment]:
    options = pytestconfig.stash.get(_OPTIONS_KEY, None)
    if options is None:
        try:
            options = HarnessOptions.from_config(pytestconfig)
        except OptionError as exc:
            pytest.fail(str(exc), pytrace=False)
    started = time.monotonic()
    env = open_environment(options)
    set_run_metadata(pytestconfig, cluster_up_s=round(time.monotonic() - started, 1))
    set_run_metadata(
        pytestconfig,
        kubernetes_version=f"1.{env.minor}" if env.minor is not None else "unknown",
        driver=env.profile.driver,
        profile=env.profile.name,
        farm=env.farm.name if env.farm is not None else "none",
        cluster=env.options.cluster,
    )
    for klass in env.profile.classes.values():
        if klass.create:
            env.kube.ensure(device_class_object(klass))
    _remove_abandoned_namespaces(env)
    try:
        yield env
    finally:
        set_farm_snapshot(pytestconfig, env.busiest_snapshot or _snapshot(env))
        close_environment(env)


def _remove_abandoned_namespaces(env: DraEnvironment) -> None:
    """Test namespaces of runs on this host that died without cleaning up hold devices: delete them."""
    host = socket.gethostname()
    selector: dict[str, Any] = {OWNER_LABEL: exists()}
    for ns in env.kube.items("Namespace", labels=selector):
        owner = str((ns["metadata"].get("labels") or {}).get(OWNER_LABEL, ""))
        owner_host, _, pid = owner.rpartition(".")
        if owner_host == host[: len(owner_host)] and pid.isdigit() and not alive(int(pid)):
            env.kube.delete("Namespace", ns["metadata"]["name"])


def _snapshot(env: DraEnvironment) -> dict[str, object]:
    """The farm as the cluster sees it now: the driver's devices, who holds them, their health."""
    slices = env.kube.items("ResourceSlice", fields={"spec.driver": env.profile.driver})
    claims = env.kube.items("ResourceClaim")
    health = None
    if env.control is not None:
        try:
            status = env.control.status()
            health = {device: "healthy" if h == "healthy" else "unhealthy" for device, h in status.health.items()}
        except (ControlError, OSError):
            health = None
    return dict(snapshot_from_cluster(slices, claims, health))


def _remember_busiest(env: DraEnvironment) -> None:
    snapshot = _snapshot(env)
    used = _busy(snapshot)
    if used >= _busy(env.busiest_snapshot or {}):
        env.busiest_snapshot = snapshot


def _busy(snapshot: dict[str, object]) -> int:
    groups = [*(snapshot.get("nodes") or []), *(snapshot.get("pools") or [])]  # type: ignore[misc]
    return sum(1 for g in groups for d in g.get("devices", []) if d.get("state") != "free")


@pytest.fixture(autouse=True)
def _dra_requirements(request: pytest.FixtureRequest) -> None:
    """Skip, with the reason, tests whose gate or capability the cluster or driver lacks."""
    gates = [m.args[0] for m in request.node.iter_markers("dra_gate")]
    capabilities = [m.args[0] for m in request.node.iter_markers("capability")]
    needs_farm = request.node.get_closest_marker("needs_farm") is not None
    min_nodes = [int(m.args[0]) for m in request.node.iter_markers("min_nodes")]
    if not (gates or capabilities or needs_farm or min_nodes):
        return
    env: DraEnvironment = request.getfixturevalue("dra_env")
    for capability in capabilities:
        if not env.profile.has(capability):
            pytest.skip(f"driver profile {env.profile.name!r} does not claim capability {capability!r}")
    for gate in gates:
        state = env.gate(gate)
        if state is False:
            pytest.skip(f"feature gate {gate} is off on this cluster; turn it on in every component to run this")
        if state is None:
            pytest.skip(f"feature gate {gate}: cannot tell whether it is on (pass --drafarm-gates {gate}=true)")
    if needs_farm and (env.farm is None or env.control is None):
        pytest.skip("needs drafarm's own fake farm (fault control); this run tests another driver")
    if min_nodes:
        served = _nodes_with_devices(env)
        if len(served) < max(min_nodes):
            pytest.skip(
                f"needs {max(min_nodes)} nodes with {env.profile.driver} devices; this cluster has {len(served)} "
                "(the local provider has one node: PROVIDER=kind gives one per farm node)"
            )


def _nodes_with_devices(env: DraEnvironment) -> set[str]:
    slices = env.kube.items("ResourceSlice", fields={"spec.driver": env.profile.driver})
    return {str(s["spec"]["nodeName"]) for s in slices if s["spec"].get("nodeName")}


@pytest.fixture(autouse=True)
def _driver_devices(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test with `dra` shares the driver's devices with the tests beside it; a `devices_alone` test
    (it deletes the driver's slices, restarts its plugin) waits until it has them alone, and tests that
    start meanwhile wait for it, so none of them times out on devices that are gone. Taken before any
    other lock a test's fixtures take (autouse fixtures come first), so locks are always taken in order."""
    if "dra" not in request.fixturenames:
        yield
        return
    env: DraEnvironment = request.getfixturevalue("dra_env")
    alone = request.node.get_closest_marker("devices_alone") is not None
    lock = device_lock.exclusive if alone else device_lock.shared
    with lock(env.profile.driver, env.kube.kubeconfig):
        yield


@pytest.fixture
def dra(dra_env: DraEnvironment, request: pytest.FixtureRequest) -> Iterator[DraTest]:
    name = f"t-{uuid.uuid4().hex[:8]}"
    labels = {OWNER_LABEL: f"{socket.gethostname()}.{os.getpid()}"[:63]}
    dra_env.kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
    test = DraTest(dra_env, name)
    test.wait.until(
        f"service account default in {name}",
        lambda: dra_env.kube.get("ServiceAccount", "default", name) is not None,
        60,
    )
    yield test
    _remember_busiest(dra_env)
    leftovers = _leftovers(test)
    if leftovers:
        request.node.user_properties.append(("leftovers", leftovers))
    dra_env.kube.delete("Namespace", name)


def _leftovers(test: DraTest) -> str:
    """Claims still reserved by pods, or pods not finished, when the test ended."""
    notes = []
    for claim in test.kube.items("ResourceClaim", test.ns):
        reserved = (claim.get("status") or {}).get("reservedFor") or []
        if reserved:
            notes.append(f"claim {claim['metadata']['name']} still reserved for {[r.get('name') for r in reserved]}")
    for pod in test.kube.items("Pod", test.ns):
        phase = (pod.get("status") or {}).get("phase")
        if phase not in ("Succeeded", "Failed"):
            notes.append(f"pod {pod['metadata']['name']} still {phase}")
    return "; ".join(notes)


@pytest.fixture
def farm_control(dra_env: DraEnvironment, dra: DraTest) -> Iterator[FarmControl]:
    if dra_env.control is None or not dra_env.control.available():
        pytest.skip("needs drafarm's own fake farm (fault control); this run tests another driver")
    control = FarmControl(dra_env.control, dra.ns)
    yield control
    control.restore()
