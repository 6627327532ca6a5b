"""`drafarm plugin run --network-devices remote --network-key-file PATH` and `python -m fakedevices.remote`
as processes (no API server: `--no-publish`, an unreachable kubeconfig): the plugin's fault control sets a
camera's health on the device host, and bad keys or pools are refused before anything starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fakedevices.plugin.control_client import PluginControl
from fakedevices.plugin.layout import PluginLayout
from tests.plugin.device_host import CAMERA, POOL, DeviceHost, write_farm
from tests.plugin.kit import DRIVER, NODE
from tests.plugin.test_upgrade_cli import UNREACHABLE_KUBECONFIG
from tests.polling import wait_for


def _plugin_argv(root: Path, farm: Path, *extra: str) -> list[str]:
    kubeconfig = root / "kubeconfig"
    kubeconfig.write_text(UNREACHABLE_KUBECONFIG)
    layout = _layout(root)
    return [
        sys.executable, "-m", "harness", "plugin", "run", "--node", NODE, "--farm", str(farm),
        "--kubeconfig", str(kubeconfig), "--no-publish", "--kubelet-root", str(layout.kubelet_root),
        "--state-dir", str(layout.state_dir), "--cdi-dir", str(layout.cdi_dir), "--log-format", "text", *extra,
    ]  # fmt: skip


def _layout(root: Path) -> PluginLayout:
    return PluginLayout(DRIVER, root / "plugin", kubelet_root=root / "kubelet", cdi_dir=root / "cdi")


def test_the_plugin_process_sets_a_cameras_health_on_its_device_host(short_tmp: Path) -> None:
    farm_file, _ = write_farm(short_tmp, "127.0.7.70")
    host = DeviceHost(short_tmp, farm_file, "127.0.7.70")
    host.start()
    log_path = short_tmp / "plugin.log"
    argv = _plugin_argv(short_tmp, farm_file, "--network-devices", "remote", "--network-key-file", str(host.key_file))
    with log_path.open("a") as log:
        plugin = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        control = PluginControl.at(_layout(short_tmp).control_socket)
        wait_for(lambda: control.available() or plugin.poll() is not None, 60, "the plugin", log_path.read_text)
        assert plugin.poll() is None, log_path.read_text()[-2000:]
        assert control.set_health(CAMERA, "unhealthy", "cable cut") == [CAMERA]
        status = host.control().call("status", device=CAMERA)
        assert (status["health"], status["reason"]) == ("unhealthy", "cable cut")
        assert control.status().health[CAMERA] == "unhealthy"
    finally:
        plugin.terminate()
        plugin.wait(30)
        host.stop()


def test_remote_network_devices_without_a_usable_key_are_refused(short_tmp: Path) -> None:
    farm_file, _ = write_farm(short_tmp, "127.0.7.80")
    missing = subprocess.run(
        _plugin_argv(short_tmp, farm_file, "--network-devices", "remote"), capture_output=True, text=True, check=False
    )
    assert missing.returncode != 0 and "--network-key-file" in missing.stderr, missing.stderr
    short = short_tmp / "short.key"
    short.write_text("tiny\n")
    refused = subprocess.run(
        _plugin_argv(short_tmp, farm_file, "--network-devices", "remote", "--network-key-file", str(short)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 1 and "holds 4 bytes" in refused.stderr, refused.stderr
    assert not _layout(short_tmp).state_dir.exists()


def test_the_device_host_refuses_an_unknown_pool_and_a_missing_key(short_tmp: Path) -> None:
    farm_file, _ = write_farm(short_tmp, "127.0.7.90")
    base = [sys.executable, "-m", "fakedevices.remote", "--farm", str(farm_file), "--state-dir", str(short_tmp / "s")]
    env = {"PATH": "/usr/bin:/bin", "DRAFARM_NETWORK_KEY": "a key of the pool, long enough"}
    pool = subprocess.run([*base, "--pool", "attic"], capture_output=True, text=True, check=False, env=env)
    assert pool.returncode == 2 and "--pool 'attic'" in pool.stderr and POOL in pool.stderr, pool.stderr
    nokey = subprocess.run([*base, "--pool", POOL], capture_output=True, text=True, check=False, env={"PATH": "/bin"})
    assert nokey.returncode == 2 and "DRAFARM_NETWORK_KEY" in nokey.stderr, nokey.stderr
