"""A kind added from outside the tree is served end to end, with no file of drafarm changed.

The test writes throwaway_kinds.py into a package of its own and registers one of its kinds through an
entry point of the group `drafarm.device_kinds`, as a distribution would. Then the farm spec accepts the
kind, the farm renders its devices (`drafarm farm show` in a fresh process), the plugin's driver builds
its emulators and prepares a claim for it (opaque config and all), the standalone emulator command
serves it, and the in-container client finds it in a container's env and talks to it. `widget` sits on
nodes (unix socket), `beacon` in a network pool (TCP); for the beacon, the cluster networking routes
its network and the plugin serves it on its own address. Anything that bypasses the registry, a list of
kinds or an `isinstance` on a built-in kind, fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from clusters.kind import farm as kind_farm
from clusters.local import farm as local_farm
from clusters.local import render
from clusters.local.config import load
from clusters.local.layout import Layout
from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.kinds import registry
from fakedevices.kinds.env_names import device_id, device_var
from fakedevices.kinds.placement import OnNetwork, OnNode
from fakedevices.model import Farm
from fakedevices.plugin.api import ClaimRef
from fakedevices.plugin.driver import NodeDriver
from fakedevices.plugin.inventory import NodeInventory
from fakedevices.plugin.layout import PluginLayout
from tests.fakedevices.installed import installed
from tests.plugin.kit import NODE, Claim, ClaimStore, ContainerView, apply_cdi, opaque, result

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "drafarm_throwaway_kinds"
EMULATOR = [sys.executable, "-m", "fakedevices.emulator"]


@dataclass(frozen=True)
class NewKind:
    name: str
    site: Path  # holds the package and its distribution's metadata

    @property
    def env(self) -> dict[str, str]:
        """The environment of a fresh drafarm process that has the kind installed."""
        return {**os.environ, "PYTHONPATH": os.pathsep.join([str(self.site), str(REPO)])}


@pytest.fixture(params=["widget", "beacon"])
def new_kind(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewKind]:
    name: str = request.param
    site = tmp_path / "site"
    source = Path(__file__).with_name("throwaway_kinds.py").read_text()
    with installed(site, PACKAGE, {f"{PACKAGE}/__init__.py": source}, {name: f"{PACKAGE}:{name.upper()}"}):
        yield NewKind(name, site)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """Unix socket paths must stay under 108 bytes: pytest's tmp_path can be too long."""
    path = Path(tempfile.mkdtemp(prefix="dfk-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _spec(kind: str) -> dict[str, Any]:
    devices: dict[str, Any] = {"gpu": {"count": 1, "model": "df50"}}
    pools = []
    if isinstance(registry.get(kind).placement, OnNode):
        devices[kind] = {"count": 2, "color": "red"}
    else:
        pools.append({"name": "hall", "kind": kind, "count": 2, "color": "red", "reachableFrom": ["worker"]})
    group = {"name": "worker", "namePattern": "drafarm-worker-{index}", "count": 1, "devices": devices}
    return {
        "apiVersion": "drafarm.dev/v1alpha1",
        "kind": "Farm",
        "metadata": {"name": "new-kind"},
        "spec": {"seed": 7, "driver": "drafarm.dev", "nodeGroups": [group], "networkPools": pools},
    }


def _spec_file(kind: str, directory: Path) -> Path:
    path = directory / "farm.yaml"
    path.write_text(yaml.safe_dump(_spec(kind)))
    return path


def _devices_of(farm: Farm, kind: str) -> list[tuple[str, str]]:
    return [(pool, d.name) for pool, d in farm.all_devices() if d.kind == kind]


def test_the_registry_finds_the_kind_through_its_entry_point(new_kind: NewKind) -> None:
    kind = registry.get(new_kind.name)
    assert type(kind).__module__ == PACKAGE
    placed = registry.node_kinds() if isinstance(kind.placement, OnNode) else registry.network_kinds()
    assert new_kind.name in placed
    assert registry.for_config(kind.config_kind) is kind


def test_the_farm_spec_takes_the_kind_and_the_farm_shows_its_devices(new_kind: NewKind, tmp_path: Path) -> None:
    spec = _spec_file(new_kind.name, tmp_path)
    farm = build_farm(load_farm_spec(spec))
    devices = _devices_of(farm, new_kind.name)
    assert len(devices) == 2
    shown = subprocess.run(
        [sys.executable, "-m", "harness", "farm", "show", str(spec), "-o", "json"],
        env=new_kind.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    listed = [d for part in (*document["nodes"], *document["networkPools"]) for d in part["devices"]]
    colors = {d["name"]: d["attributes"]["color"] for d in listed if d["attributes"]["kind"]["string"] == new_kind.name}
    assert colors == {name: {"string": "red"} for _, name in devices}


def test_the_plugin_prepares_the_kind_and_the_client_talks_to_it(new_kind: NewKind, short_dir: Path) -> None:
    farm = build_farm(load_farm_spec(_spec_file(new_kind.name, short_dir)))
    pool, device = _devices_of(farm, new_kind.name)[0]
    claims = ClaimStore()
    config = opaque({"kind": registry.get(new_kind.name).config_kind, "tone": "bright"})
    claim = claims.add(Claim("uses-new-kind", [result("it", device, pool=pool)], [config]))
    network = isinstance(registry.get(new_kind.name).placement, OnNetwork)
    layout = PluginLayout(farm.driver, short_dir / "state", short_dir / "kubelet", short_dir / "cdi")
    driver = NodeDriver(NodeInventory(farm, NODE), claims, layout, own_addresses=network)
    driver.start()
    try:
        outcome = driver.prepare([ClaimRef(claim.namespace, claim.uid, claim.name)])[claim.uid]
        assert outcome.error == ""
        view = apply_cdi(short_dir / "cdi", [d.cdi_id for d in outcome.devices])
        hum = _client(view, "raw", "--kind", new_kind.name, '{"op": "hum"}')
        info = _client(view, "info")
        if network:  # served on the device's own address, which the kind gives
            assert view.env[device_var(new_kind.name, device, "ADDR")].startswith("127.77.1.10:")
    finally:
        driver.stop()
    assert hum == {"ok": True, "color": "red", "tone": "bright"}
    assert [(d["ref"], d["name"]) for d in info["devices"]] == [
        (f"{new_kind.name}[{device_id(new_kind.name, device)}]", device)
    ]


def test_the_standalone_emulator_serves_the_kind(new_kind: NewKind, short_dir: Path) -> None:
    config = short_dir / "devices.json"
    config.write_text(json.dumps({new_kind.name: [{"name": "solo", "serial": "TWK-1", "color": "blue"}]}))
    proc = subprocess.Popen(
        [*EMULATOR, "--config", str(config), "--session", "demo", "--state-dir", str(short_dir / "run")],
        env=new_kind.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline() or "{}")
        assert line.get("kind") == new_kind.name, proc.stderr.read() if proc.stderr else ""
        hum = _client(ContainerView(line["env"], {}, []), "raw", "--kind", new_kind.name, '{"op": "hum"}')
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert hum == {"ok": True, "color": "blue", "tone": "plain"}


def test_the_cluster_networks_route_a_network_kind(new_kind: NewKind, tmp_path: Path) -> None:
    kind = registry.get(new_kind.name)
    farm = build_farm(load_farm_spec(_spec_file(new_kind.name, tmp_path)))
    cfg = load("1.34", "unit", tmp_path / "unit")
    routes = [
        r["dst"] for r in json.loads(render.cni_conflist(cfg, Layout(cfg.state_dir)))["plugins"][0]["ipam"]["routes"]
    ]
    unreachable = [
        c[4] for c in kind_farm.device_network_commands() if c[:4] == ["ip", "route", "replace", "unreachable"]
    ]
    addresses = local_farm.camera_addresses(farm, NODE)
    if isinstance(kind.placement, OnNetwork):
        assert kind.placement.cidr in routes and kind.placement.cidr in unreachable
        assert addresses == ["127.77.1.10", "127.77.1.11"]
        assert kind_farm.camera_addresses(farm, NODE) == addresses
    else:
        assert addresses == []


def _client(view: ContainerView, *args: str) -> dict[str, Any]:
    ran = view.client(*args)
    assert ran.returncode == 0, ran
    output: dict[str, Any] = json.loads(ran.stdout.splitlines()[-1])
    return output
