"""Farm output for people (a table) and for tools (JSON, YAML)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from fakedevices.model import Device, Farm, NetworkPool, Node


def farm_document(farm: Farm) -> dict[str, Any]:
    return {
        "farm": farm.name,
        "seed": farm.seed,
        "driver": farm.driver,
        "nodes": [node_document(node) for node in farm.nodes],
        "networkPools": [pool_document(pool) for pool in farm.pools],
    }


def node_document(node: Node) -> dict[str, Any]:
    return {
        "name": node.name,
        "group": node.group,
        "labels": dict(node.labels),
        "sharedCounters": [c.to_api() for c in node.inventory.counter_sets],
        "devices": [d.to_api() for d in node.devices],
    }


def pool_document(pool: NetworkPool) -> dict[str, Any]:
    return {
        "name": pool.name,
        "kind": pool.kind,
        "nodes": list(pool.nodes),
        "devices": [d.to_api() for d in pool.devices],
    }


def render_json(farm: Farm) -> str:
    return json.dumps(farm_document(farm), indent=2) + "\n"


def render_yaml(farm: Farm) -> str:
    return yaml.safe_dump(farm_document(farm), sort_keys=False)


def attributes_cell(device: Device) -> str:
    skip = {"kind", "type"}
    return " ".join(f"{k}={a.value}" for k, a in sorted(device.attributes.items()) if k not in skip)


def capacity_cell(device: Device) -> str:
    parts = []
    for name, cap in sorted(device.capacity.items()):
        shared = f" (shares from {cap.request_policy.minimum})" if cap.request_policy else ""
        parts.append(f"{name}={cap.value}{shared}")
    return " ".join(parts)


TABLE_HEADER = ("POOL", "DEVICE", "KIND", "TYPE", "CAPACITY", "ATTRIBUTES")


def device_row(pool: str, device: Device) -> tuple[str, ...]:
    return (
        pool,
        device.name,
        device.kind,
        str(device.attributes["type"].value),
        capacity_cell(device),
        attributes_cell(device),
    )


def table_line(row: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5]


def render_table(farm: Farm) -> str:
    rows: list[tuple[str, ...]] = [TABLE_HEADER]
    for pool, device in farm.all_devices():
        rows.append(device_row(pool, device))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        f"farm {farm.name}  seed {farm.seed}  driver {farm.driver}  "
        f"{len(farm.nodes)} nodes  {len(farm.pools)} network pools  {len(rows) - 1} devices",
    ]
    for node in farm.nodes[:1] if len(farm.nodes) > 20 else farm.nodes:
        labels = ",".join(f"{k}={v}" for k, v in node.labels.items())
        lines.append(f"node {node.name}  group {node.group}  labels {labels}")
    for pool_ in farm.pools:
        lines.append(f"network pool {pool_.name}  kind {pool_.kind}  reachable from {', '.join(pool_.nodes)}")
    lines.append("")
    for row in rows:
        lines.append(table_line(row, widths))
    return "\n".join(lines) + "\n"


RENDERERS = {"table": render_table, "json": render_json, "yaml": render_yaml}
