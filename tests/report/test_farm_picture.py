"""The farm picture of a farm of many nodes (the `large` farm on virtual nodes): a box per node group with
a square per node, each square's hover naming the node and its devices by state, and a page that stays
small; a farm of a few nodes keeps a tile per device."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from harness.report.farm_picture import AGGREGATE_ABOVE, farm_svg

NS = "{http://www.w3.org/2000/svg}"


def _node(name: str, states: list[str]) -> dict[str, Any]:
    return {"name": name, "devices": [{"name": f"gpu-{i}", "kind": "gpu", "state": s} for i, s in enumerate(states)]}


def _titles(svg: str) -> list[str]:
    return [g.findtext(f"{NS}title") or "" for g in ET.fromstring(svg).findall(f".//{NS}g[@class='dev']")]


def test_500_nodes_are_drawn_as_one_group_with_a_square_per_node() -> None:
    nodes = [_node(f"gpu-node-{i}", ["allocated"] * 5 + ["free"] * 3) for i in range(500)]
    nodes[7] = _node("gpu-node-7", ["unhealthy"] + ["free"] * 7)
    nodes.append(_node("drafarm-node", ["free"] * 8))
    svg = farm_svg({"nodes": nodes, "pools": []})
    titles = _titles(svg)
    assert len(titles) == 500 + 8, "a square per grouped node, and the single node's own tiles"
    assert "gpu-node-42: 8 devices: 5 allocated, 3 free" in titles
    assert "gpu-node-7: 8 devices: 1 unhealthy, 7 free" in titles
    assert "gpu-node-*" in svg and "500 nodes · 4000 devices: 1 unhealthy, 2495 allocated, 1504 free" in svg
    squares = {g.findtext(f"{NS}title") or "": g for g in ET.fromstring(svg).iter(f"{NS}g")}
    sick = squares["gpu-node-7: 8 devices: 1 unhealthy, 7 free"].find(f"{NS}rect")
    assert sick is not None and sick.get("fill") == "#dc2626", "a node with an unhealthy device shows red"
    assert len(svg) < 250_000, f"the picture of 500 nodes is {len(svg)} bytes"


def test_a_few_nodes_keep_a_tile_per_device() -> None:
    nodes = [_node(f"n-{i}", ["free", "allocated"]) for i in range(AGGREGATE_ABOVE)]
    titles = _titles(farm_svg({"nodes": nodes}))
    assert len(titles) == 2 * AGGREGATE_ABOVE
    assert titles[1].startswith("gpu-1 (gpu)\nstate: allocated")
