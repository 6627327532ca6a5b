"""`farm show` output written node by node: the same text as `render`, in memory for one node at a time.

A 5000-node farm is gigabytes of JSON; holding the farm, its document and the text at once took more
than 3 GB. Here nodes are built, written and dropped one at a time (the table, whose column widths need
every row, builds them twice instead of keeping them).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator

import yaml

from fakedevices.farm import build_pools, iter_nodes
from fakedevices.farmspec.schema import FarmSpec
from fakedevices.model import Device, NetworkPool
from fakedevices.render import TABLE_HEADER, device_row, node_document, pool_document, table_line

Write = Callable[[str], object]
MAX_NODES_LISTED = 20


def stream_json(spec: FarmSpec, seed: int | None, write: Write) -> None:
    seed = spec.seed if seed is None else seed
    pools = build_pools(spec, seed)
    write(f'{{\n  "farm": {json.dumps(spec.name)},\n  "seed": {seed},\n  "driver": {json.dumps(spec.driver)},\n')
    write('  "nodes": [')
    for i, node in enumerate(iter_nodes(spec, seed)):
        write(("," if i else "") + "\n" + textwrap.indent(json.dumps(node_document(node), indent=2), "    "))
    pools_text = json.dumps([pool_document(p) for p in pools], indent=2).replace("\n", "\n  ")
    write(f'\n  ],\n  "networkPools": {pools_text}\n}}\n')


def stream_yaml(spec: FarmSpec, seed: int | None, write: Write) -> None:
    seed = spec.seed if seed is None else seed
    pools = build_pools(spec, seed)
    write(yaml.safe_dump({"farm": spec.name, "seed": seed, "driver": spec.driver}, sort_keys=False))
    write("nodes:\n")
    for node in iter_nodes(spec, seed):
        write(yaml.safe_dump([node_document(node)], sort_keys=False))
    write(yaml.safe_dump({"networkPools": [pool_document(p) for p in pools]}, sort_keys=False))


def _devices(spec: FarmSpec, seed: int, pools: tuple[NetworkPool, ...]) -> Iterator[tuple[str, Device]]:
    for node in iter_nodes(spec, seed):
        for device in node.devices:
            yield node.name, device
    for pool in pools:
        for device in pool.devices:
            yield pool.name, device


def stream_table(spec: FarmSpec, seed: int | None, write: Write) -> None:
    seed = spec.seed if seed is None else seed
    pools = build_pools(spec, seed)
    widths = [len(cell) for cell in TABLE_HEADER[:5]]
    devices = 0
    for pool_name, device in _devices(spec, seed, pools):
        devices += 1
        for i, cell in enumerate(device_row(pool_name, device)[:5]):
            widths[i] = max(widths[i], len(cell))
    nodes = sum(g.count for g in spec.node_groups)
    write(
        f"farm {spec.name}  seed {seed}  driver {spec.driver}  "
        f"{nodes} nodes  {len(pools)} network pools  {devices} devices\n"
    )
    listed = 1 if nodes > MAX_NODES_LISTED else nodes
    for group in spec.node_groups:
        for name in group.node_names()[:listed]:
            labels = ",".join(f"{k}={v}" for k, v in {"drafarm.dev/group": group.name, **group.labels}.items())
            write(f"node {name}  group {group.name}  labels {labels}\n")
            listed -= 1
    for pool in pools:
        write(f"network pool {pool.name}  kind {pool.kind}  reachable from {', '.join(pool.nodes)}\n")
    write("\n" + table_line(TABLE_HEADER, widths) + "\n")
    for pool_name, device in _devices(spec, seed, pools):
        write(table_line(device_row(pool_name, device), widths) + "\n")


STREAMERS: dict[str, Callable[[FarmSpec, int | None, Write], None]] = {
    "table": stream_table,
    "json": stream_json,
    "yaml": stream_yaml,
}
