"""A device host (`python -m fakedevices.remote`) as a real subprocess serving the `small` farm's camera
pool on loopback addresses, and node drivers that reach it with `--network-devices remote`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import EXAMPLES
from fakedevices.farmspec.schema import parse_farm_spec
from fakedevices.model import Farm
from fakedevices.plugin.card_emulators import RemoteNetworkDevices
from fakedevices.plugin.driver import NodeDriver
from fakedevices.plugin.inventory import NodeInventory
from fakedevices.plugin.layout import PluginLayout
from fakedevices.remote.client import HostControl
from tests.plugin.kit import DRIVER, ClaimStore
from tests.polling import wait_for

POOL = "lobby"
CAMERA = "lobby-cam-0"
KEY = b"the pool key of the lobby cameras"
POLL_S = 0.2


def write_farm(root: Path, first_address: str, nodes: int = 1) -> tuple[Path, Farm]:
    """The `small` farm with `nodes` worker nodes and its camera pool on `first_address` and the next."""
    document = yaml.safe_load((EXAMPLES / "small.yaml").read_text())
    document["spec"]["nodeGroups"][0]["count"] = nodes
    document["spec"]["networkPools"][0]["bindAddress"] = first_address
    path = root / "farm.yaml"
    path.write_text(yaml.safe_dump(document))
    return path, build_farm(parse_farm_spec(document))


class DeviceHost:
    """The host process; `kill` it and `start` it again on the same state dir."""

    def __init__(self, root: Path, farm_file: Path, address: str, key: bytes = KEY) -> None:
        self.root = root
        self.farm_file = farm_file
        self.address = address
        self.key_file = root / "host.key"
        self.key_file.write_bytes(key + b"\n")
        self.log = root / "host.log"
        self.process: subprocess.Popen[bytes] | None = None

    def control(self, key: bytes = KEY) -> HostControl:
        return HostControl(self.address, 8555, key, timeout=2)

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "fakedevices.remote",
            "--farm",
            str(self.farm_file),
            "--pool",
            POOL,
            "--state-dir",
            str(self.root / "host-state"),
            "--key-file",
            str(self.key_file),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log, env={**os.environ})
        control = self.control()
        wait_for(self._answers, 20, "the device host to answer host control", self.tail)
        assert control.call("ping")["pong"] is True

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the device host exited with {self.process.returncode}: {self.tail()}")
        try:
            self.control().call("ping")
        except Exception:
            return False
        return True

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def tail(self) -> str:
        try:
            return self.log.read_text()[-2000:]
        except OSError:
            return "(no log)"


def remote_driver(root: Path, farm: Farm, node: str, claims: ClaimStore, key: bytes = KEY) -> NodeDriver:
    """A started node driver whose network devices are the device host's."""
    layout = PluginLayout(DRIVER, root / "state", kubelet_root=root / "kubelet", cdi_dir=root / "cdi")
    remote = RemoteNetworkDevices(key, poll_s=POLL_S)
    driver = NodeDriver(NodeInventory(farm, node), claims, layout, remote_network=remote)
    driver.start()
    return driver
