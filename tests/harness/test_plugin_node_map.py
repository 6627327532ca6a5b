"""A plugin told every served node (`plugin run --node-map`) publishes each network pool once, by the
first served node that reaches it, selecting only served nodes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fakedevices.farm import open_farm
from fakedevices.plugin.inventory import NodeInventory
from harness.cli import cli

MAP = {"gpu-large-0": "kind-worker", "gpu-large-1": "kind-worker2", "gpu-small-0": "kind-worker3"}


def _publishers(farm_nodes: dict[str, str], bind_all: bool) -> dict[str, list[str]]:
    """{network pool: the kube nodes whose plugin publishes it}."""
    farm = open_farm("mixed").farm
    found: dict[str, list[str]] = {}
    for farm_node, kube in farm_nodes.items():
        served = farm.served_by(farm_nodes) if bind_all else farm.bind_nodes({farm_node: kube})
        inventory = NodeInventory(served, kube)
        for pool in inventory.pools.values():
            if inventory.publishes_network_pool(pool):
                found.setdefault(pool.name, []).append(kube)
    return found


def test_each_network_pool_is_published_once_by_a_served_node() -> None:
    assert _publishers(MAP, bind_all=True) == {"dock": ["kind-worker"], "lobby": ["kind-worker3"]}
    assert _publishers(MAP, bind_all=False) == {}, "bound one node at a time, no plugin takes a pool"


def test_a_pool_reaches_only_served_nodes_by_their_cluster_names() -> None:
    farm = open_farm("mixed").farm.served_by(MAP)
    reached = {p.name: p.nodes for p in farm.pools}
    assert reached == {"lobby": ("kind-worker3",), "dock": ("kind-worker", "kind-worker2")}


def test_a_bad_node_map_line_is_named_before_anything_starts(tmp_path: Path) -> None:
    bad = tmp_path / "nodes"
    bad.write_text("kind-worker=gpu-large-0\nkind-worker2 gpu-large-1\n")
    state = tmp_path / "state"
    args = ["plugin", "run", "--node", "gpu-large-0", "--farm", "mixed", "--node-map", str(bad)]
    result = CliRunner().invoke(cli, [*args, "--state-dir", str(state)])
    assert result.exit_code == 2, result.output
    assert "--node-map" in result.output and f"{bad}:2" in result.output and "KUBE=FARM" in result.output
    assert not state.exists()
