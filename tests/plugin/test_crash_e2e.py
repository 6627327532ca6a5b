"""SIGKILL during a loop of prepares, then a restart: no leaked CDI spec, no corrupt checkpoint, every
claim prepared or unprepared as the kubelet asked. The plugin is the real `drafarm plugin run` process
reading real claims from the local cluster's API server; the test plays the kubelet."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from lightkube import Client
from lightkube.codecs import from_dict
from lightkube.resources.core_v1 import Namespace
from lightkube.resources.resource_v1 import ResourceClaim

from clusters.local.provider import LocalProvider
from fakedevices.plugin.checkpoint import Checkpoint
from fakedevices.plugin.layout import PluginLayout
from tests.plugin.kit import DRIVER, NODE, Claim, FakeKubelet
from tests.polling import wait_for

pytestmark = pytest.mark.e2e
PARTITIONS = [f"gpu-{g}-1g-5gb-{i}" for g in range(3) for i in range(7)]


def _layout(root: Path) -> PluginLayout:
    return PluginLayout(DRIVER, root / "state", kubelet_root=root / "kubelet", cdi_dir=root / "cdi")


def _start_plugin(root: Path, kubeconfig: Path) -> subprocess.Popen[bytes]:
    layout = _layout(root)
    # A killed plugin leaves its socket behind: remove it, so its reappearance means the new one serves.
    layout.registration_socket.unlink(missing_ok=True)
    log = (root / "plugin.log").open("ab")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "plugin",
            "run",
            "--node",
            NODE,
            "--farm",
            "small",
            "--kubeconfig",
            str(kubeconfig),
            "--kubelet-root",
            str(layout.kubelet_root),
            "--state-dir",
            str(layout.state_dir),
            "--cdi-dir",
            str(layout.cdi_dir),
            "--no-publish",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _connect(root: Path) -> FakeKubelet:
    registration = _layout(root).registration_socket
    wait_for(
        registration.exists,
        60,
        f"the plugin to create {registration}",
        lambda: (root / "plugin.log").read_text()[-2000:],
        interval=0.1,
    )
    kubelet = FakeKubelet(registration)
    kubelet.register()
    return kubelet


@pytest.fixture
def claims_ns(kube: Client) -> Iterator[str]:
    name = f"crash-{uuid.uuid4().hex[:6]}"
    kube.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    yield name
    kube.delete(Namespace, name)


def _allocated_claim(kube: Client, namespace: str, name: str, device: str) -> Claim:
    created = kube.create(
        from_dict(
            {
                "apiVersion": "resource.k8s.io/v1",
                "kind": "ResourceClaim",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": "drafarm-gpu"}}]}},
            }
        )
    )
    allocation = {"devices": {"results": [{"request": "gpu", "driver": "drafarm.dev", "pool": NODE, "device": device}]}}
    kube.patch(ResourceClaim.Status, name, {"status": {"allocation": allocation}}, namespace=namespace)
    return Claim(name, [], namespace=namespace, uid=created.metadata.uid)


def _prepare_loop(kubelet: FakeKubelet, claims: list[Claim], asked: dict[str, str], stop: threading.Event) -> None:
    """Play a busy kubelet: prepare every claim, unprepare every third, until the plugin goes away."""
    for i, claim in enumerate(claims):
        if stop.is_set():
            return
        try:
            asked[claim.uid] = "preparing"
            if kubelet.prepare(claim).claims[claim.uid].error == "":
                asked[claim.uid] = "prepared"
            if i % 3 == 0:
                asked[claim.uid] = "unpreparing"
                kubelet.unprepare(claim)
                asked[claim.uid] = "unprepared"
        except grpc.RpcError:
            return


def _check_consistent(root: Path) -> set[str]:
    """The checkpoint reads back, and CDI specs and checkpoint entries are the same set of claims."""
    layout = _layout(root)
    claims_dir = layout.checkpoint_dir
    assert not list(claims_dir.glob(".*.tmp")), "the restart left a cut-short checkpoint write behind"
    assert not list(layout.cdi_dir.glob(".*.tmp")), "the restart left a cut-short CDI spec write behind"
    prepared = {c.uid for c in Checkpoint(claims_dir).claims()}
    specs = {json.loads(p.read_text())["devices"][0]["name"][:36] for p in layout.cdi_dir.glob("*.json")}
    assert specs == prepared, (
        f"CDI specs without checkpoint: {specs - prepared}; entries without spec: {prepared - specs}"
    )
    return prepared


def _finished(asked: dict[str, str]) -> int:
    return sum(1 for state in asked.values() if state != "preparing")


def _finished_at_least(asked: dict[str, str], count: int) -> Callable[[], bool]:
    return lambda: _finished(asked) >= count


def test_sigkill_during_prepares_then_restart(kube: Client, local_cluster: LocalProvider, claims_ns: str) -> None:
    root = Path("/tmp") / f"dfk-{uuid.uuid4().hex[:6]}"
    root.mkdir()
    claims = [_allocated_claim(kube, claims_ns, f"c{i}", device) for i, device in enumerate(PARTITIONS)]
    asked: dict[str, str] = {}
    process = _start_plugin(root, local_cluster.kubeconfig())
    try:
        for round_ in range(3):
            kubelet = _connect(root)
            stop = threading.Event()
            workers = [
                threading.Thread(target=_prepare_loop, args=(kubelet, claims[w::3], asked, stop), daemon=True)
                for w in range(3)
            ]
            for worker in workers:
                worker.start()
            # Crash once a few more prepares finished, with others in flight.
            wanted = _finished(asked) + 2 + round_
            wait_for(
                _finished_at_least(asked, wanted), 30, f"{wanted} prepares to finish", lambda: str(asked), interval=0.01
            )
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            stop.set()
            for worker in workers:
                worker.join(timeout=60)
            kubelet.close()
            # Right after the kill, an unprepare cut short may have removed a spec but not yet its
            # checkpoint entry: the restart repairs that before it serves again.
            process = _start_plugin(root, local_cluster.kubeconfig())
            _connect(root).close()
            prepared = _check_consistent(root)
            assert {u for u, s in asked.items() if s == "prepared"} <= prepared
            assert not ({u for u, s in asked.items() if s == "unprepared"} & prepared)

        kubelet = _connect(root)
        for claim in claims:  # the kubelet retries what it had not seen finish
            if asked.get(claim.uid) in (None, "preparing", "prepared"):
                assert kubelet.prepare(claim).claims[claim.uid].error == ""
                asked[claim.uid] = "prepared"
            elif asked[claim.uid] == "unpreparing":
                assert kubelet.unprepare(claim).claims[claim.uid].error == ""
                asked[claim.uid] = "unprepared"
        prepared = _check_consistent(root)
        assert prepared == {uid for uid, state in asked.items() if state == "prepared"}
        for claim in claims:
            assert kubelet.unprepare(claim).claims[claim.uid].error == ""
        assert _check_consistent(root) == set()
        kubelet.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert not _layout(root).registration_socket.exists()
    shutil.rmtree(root, ignore_errors=True)
