"""`drafarm plugin run --instance ID` as processes, with no API server (`--no-publish`, an unreachable
kubeconfig): a second instance with another ID starts beside the first with sockets of its own, one with
the same ID is refused with the fix, the first one stopping leaves the second one serving, and an
instance killed leaves the other one serving what it had taken."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakedevices.plugin.control_client import PluginControl
from fakedevices.plugin.layout import PluginLayout
from tests.plugin.instances import Instance, layout_of
from tests.plugin.kit import NODE, Claim, ClaimStore, FakeKubelet, apply_cdi, result
from tests.polling import wait_for

UNREACHABLE_KUBECONFIG = (
    "apiVersion: v1\nkind: Config\ncurrent-context: none\n"
    "clusters: [{name: none, cluster: {server: 'https://127.0.0.1:9'}}]\n"
    "users: [{name: none, user: {token: none}}]\n"
    "contexts: [{name: none, context: {cluster: none, user: none}}]\n"
)


class Plugins:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.kubeconfig = root / "kubeconfig"
        self.kubeconfig.write_text(UNREACHABLE_KUBECONFIG)
        self.started: list[subprocess.Popen[str]] = []

    def argv(self, instance: str, *extra: str) -> list[str]:
        layout = layout_of(self.root)
        return [
            sys.executable, "-m", "harness", "plugin", "run", "--node", NODE, "--farm", "small",
            "--kubeconfig", str(self.kubeconfig), "--no-publish", "--instance", instance,
            "--kubelet-root", str(layout.kubelet_root), "--state-dir", str(layout.state_dir),
            "--cdi-dir", str(layout.cdi_dir), "--log-format", "text", *extra,
        ]  # fmt: skip

    def start(self, instance: str, *extra: str) -> tuple[subprocess.Popen[str], PluginLayout]:
        log = (self.root / f"plugin-{instance}.log").open("a")
        proc = subprocess.Popen(self.argv(instance, *extra), stdout=log, stderr=subprocess.STDOUT, text=True)
        self.started.append(proc)
        layout = layout_of(self.root, instance)
        wait_for(
            lambda: layout.registration_socket.exists() or proc.poll() is not None,
            60,
            f"instance {instance} to create {layout.registration_socket}",
            lambda: (self.root / f"plugin-{instance}.log").read_text()[-2000:],
            interval=0.1,
        )
        assert proc.poll() is None, (self.root / f"plugin-{instance}.log").read_text()[-2000:]
        return proc, layout

    def run(self, instance: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(instance), capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def plugins(short_tmp: Path) -> Iterator[Plugins]:
    running = Plugins(short_tmp)
    yield running
    for proc in running.started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


def test_instances_start_beside_each_other_and_the_same_id_twice_is_refused(plugins: Plugins) -> None:
    old, old_layout = plugins.start("v1")
    refused = plugins.run("v1")
    assert refused.returncode == 1, refused
    assert f"plugin instance 'v1' (pid {old.pid}) already serves" in refused.stderr
    assert "give this one another --instance" in refused.stderr

    new, new_layout = plugins.start("v2")
    endpoints = []
    for layout in (old_layout, new_layout):
        kubelet = FakeKubelet(layout.registration_socket)
        endpoints.append(kubelet.register().endpoint)
        kubelet.close()
    assert endpoints == [str(old_layout.service_socket), str(new_layout.service_socket)]

    old.send_signal(signal.SIGTERM)
    assert old.wait(30) == 0
    assert not old_layout.registration_socket.exists() and not old_layout.service_socket.exists()
    assert new_layout.registration_socket.exists() and new_layout.service_socket.exists()
    assert PluginControl.at(new_layout.control_socket).status().node == NODE
    new.send_signal(signal.SIGTERM)
    assert new.wait(30) == 0


def test_the_ready_file_is_there_only_while_the_kubelet_has_the_instance_registered(plugins: Plugins) -> None:
    """What the DaemonSet's readiness probe checks: a rolling update must not stop the old pod before the
    new one is registered (it could not take the old one's sockets over)."""
    ready = plugins.root / "ready"
    proc, layout = plugins.start("v1", "--ready-file", str(ready))
    assert not ready.exists(), "ready before the kubelet registered the instance"
    kubelet = FakeKubelet(layout.registration_socket)
    kubelet.register()
    kubelet.close()
    wait_for(ready.exists, 10, f"{ready} once the kubelet registered the instance", lambda: "no file")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert not ready.exists(), "the ready file outlived the instance"


def test_an_instance_id_that_is_no_file_name_is_refused_before_anything_is_made(plugins: Plugins) -> None:
    refused = plugins.run("../escape")
    assert refused.returncode == 2 and "instance ID '../escape' must be" in refused.stderr, refused
    assert not (plugins.root / "state").exists()


def test_an_instance_killed_leaves_the_other_one_serving_what_it_had_taken(
    plugins: Plugins, claims: ClaimStore
) -> None:
    old = Instance(plugins.root, claims)  # in this process: it prepares without an API server
    try:
        claim = claims.add(Claim("kept", [result("gpu", "gpu-0")]))
        [device] = old.kubelet.prepare(claim).claims[claim.uid].devices
        view = apply_cdi(old.layout.cdi_dir, list(device.cdi_device_ids))
        [session] = [Path(v) for k, v in view.host_env().items() if k.endswith("_SOCKET")]
        new, _ = plugins.start("v2")
        held = lambda: str(old.driver.sockets_held())  # noqa: E731
        wait_for(lambda: session not in old.driver.sockets_held(), 30, "the new instance to bind the session", held)
        new.send_signal(signal.SIGKILL)
        new.wait(30)
        back = lambda: session in old.driver.sockets_held() and old.server.control.holds_socket  # noqa: E731
        wait_for(back, 30, "the old instance to take its sockets back", held)
        assert view.client("gpu-run", "--n", "3").returncode == 0
        assert PluginControl.at(old.layout.control_socket).status().prepared == (claim.uid,)
    finally:
        old.stop()
