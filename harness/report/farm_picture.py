"""The farm as an SVG picture: a box per node and per network pool, a tile per device coloured by its
state, hover for the details. A farm of many nodes (virtual nodes: hundreds) is drawn a box per node
group instead, with a square per node, so the picture stays readable and small; hovering a square shows
that node's devices by state."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

STATE_COLOURS = {
    "free": ("#e5e7eb", "#9ca3af", "#374151"),  # fill, stroke, text
    "allocated": ("#2563eb", "#1d4ed8", "#ffffff"),
    "shared": ("#9333ea", "#7e22ce", "#ffffff"),
    "unhealthy": ("#dc2626", "#991b1b", "#ffffff"),
}
TILE = 26
GAP = 4
PAD = 10
HEAD = 34
MAX_COLS = 12
WIDTH = 1180
BOX_GAP = 14


def _device_tile(device: Mapping[str, Any], x: float, y: float) -> str:
    state = str(device.get("state", "free"))
    fill, stroke, ink = STATE_COLOURS.get(state, STATE_COLOURS["free"])
    kind = str(device.get("kind") or "?")
    lines = [f"{device.get('name', '?')} ({kind})", f"state: {state}"]
    claims = list(device.get("claims") or [])
    if claims:
        lines.append("claims: " + ", ".join(str(c) for c in claims))
    for key in ("driver", "pool"):
        if device.get(key):
            lines.append(f"{key}: {device[key]}")
    for taint in device.get("taints") or []:
        lines.append(f"taint: {taint}")
    dash = ' stroke-dasharray="3 2"' if state == "unhealthy" else ""
    return (
        f'<g class="dev"><title>{e(chr(10).join(lines))}</title>'
        f'<rect x="{x}" y="{y}" width="{TILE}" height="{TILE}" rx="4" fill="{fill}" stroke="{stroke}"{dash}/>'
        f'<text x="{x + TILE / 2}" y="{y + TILE / 2 + 4}" text-anchor="middle" font-size="11" font-weight="600" '
        f'fill="{ink}">{e(kind[:1].upper())}</text></g>'
    )


def _box(group: Mapping[str, Any], network: bool) -> tuple[float, float, list[str]]:
    """(width, height, svg parts at origin) of one node or pool box."""
    devices = list(group.get("devices") or [])
    cols = max(1, min(MAX_COLS, len(devices)))
    rows = max(1, math.ceil(len(devices) / cols))
    name = str(group.get("name", "?"))
    subtitle = f"{len(devices)} device{'s' if len(devices) != 1 else ''}"
    if network:
        subtitle = f"network pool · {group.get('scope', '')} · {subtitle}"
    label_width = max(len(name) * 7.6, len(subtitle) * 5.9) + 2 * PAD
    width = max(cols * (TILE + GAP) - GAP + 2 * PAD, label_width, 120)
    height = HEAD + rows * (TILE + GAP) - GAP + PAD
    dash = ' stroke-dasharray="6 4"' if network else ""
    fill = "#f5f3ff" if network else "#f8fafc"
    parts = [
        f'<rect x="0" y="0" width="{width:.0f}" height="{height}" rx="8" fill="{fill}" stroke="#94a3b8"{dash}/>',
        f'<text x="{PAD}" y="16" font-size="13" font-weight="600" fill="#111827">{e(name)}</text>',
        f'<text x="{PAD}" y="28" font-size="10" fill="#6b7280">{e(subtitle)}</text>',
    ]
    if not devices:
        parts.append(f'<text x="{PAD}" y="{HEAD + 14}" font-size="11" fill="#9ca3af">no devices</text>')
    for index, device in enumerate(devices):
        row, col = divmod(index, cols)
        parts.append(_device_tile(device, PAD + col * (TILE + GAP), HEAD + row * (TILE + GAP)))
    return width, height, parts


AGGREGATE_ABOVE = 32
"""More nodes than this are drawn per node group, a square per node."""
SQUARE = 10
SQUARE_GAP = 2
SQUARE_COLS = 60
PRIORITY = ("unhealthy", "shared", "allocated", "free")


def _group_of(node: str) -> str:
    """Nodes named alike but for a trailing number belong together (`gpu-node-12` -> `gpu-node-*`)."""
    return re.sub(r"\d+$", "*", node)


def _counts(devices: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(PRIORITY, 0)
    for device in devices:
        state = str(device.get("state", "free"))
        counts[state if state in counts else "free"] += 1
    return counts


def _summary(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {state}" for state, n in counts.items() if n) or "no devices"


def _node_square(node: Mapping[str, Any], x: float, y: float) -> str:
    devices = list(node.get("devices") or [])
    counts = _counts(devices)
    # unhealthy shows whenever present; otherwise the state most of its devices are in
    state = "unhealthy" if counts["unhealthy"] else max(PRIORITY[1:], key=lambda s: (counts[s], -PRIORITY.index(s)))
    fill, stroke, _ink = STATE_COLOURS[state]
    title = f"{node.get('name', '?')}: {len(devices)} devices: {_summary(counts)}"
    return (
        f'<g class="dev"><title>{e(title)}</title><rect x="{x}" y="{y}" width="{SQUARE}" height="{SQUARE}" rx="2" '
        f'fill="{fill}" stroke="{stroke}"/></g>'
    )


def _group_box(name: str, nodes: Sequence[Mapping[str, Any]]) -> tuple[float, float, list[str]]:
    """(width, height, svg parts at origin) of a node group: a square per node, coloured by its devices."""
    devices = [d for n in nodes for d in n.get("devices") or []]
    cols = max(1, min(SQUARE_COLS, len(nodes)))
    rows = math.ceil(len(nodes) / cols)
    subtitle = f"{len(nodes)} nodes · {len(devices)} devices: {_summary(_counts(devices))}"
    width = max(cols * (SQUARE + SQUARE_GAP) - SQUARE_GAP + 2 * PAD, len(subtitle) * 5.9 + 2 * PAD, 120)
    height = HEAD + rows * (SQUARE + SQUARE_GAP) - SQUARE_GAP + PAD
    parts = [
        f'<rect x="0" y="0" width="{width:.0f}" height="{height}" rx="8" fill="#f8fafc" stroke="#94a3b8"/>',
        f'<text x="{PAD}" y="16" font-size="13" font-weight="600" fill="#111827">{e(name)}</text>',
        f'<text x="{PAD}" y="28" font-size="10" fill="#6b7280">{e(subtitle)}</text>',
    ]
    for index, node in enumerate(nodes):
        row, col = divmod(index, cols)
        parts.append(_node_square(node, PAD + col * (SQUARE + SQUARE_GAP), HEAD + row * (SQUARE + SQUARE_GAP)))
    return width, height, parts


def _node_boxes(nodes: Sequence[Mapping[str, Any]]) -> list[tuple[float, float, list[str]]]:
    if len(nodes) <= AGGREGATE_ABOVE:
        return [_box(n, False) for n in nodes]
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for node in nodes:
        groups.setdefault(_group_of(str(node.get("name", "?"))), []).append(node)
    return [_box(members[0], False) if len(members) == 1 else _group_box(name, members)
            for name, members in groups.items()]  # fmt: skip


def farm_svg(snapshot: Mapping[str, Any]) -> str:
    """The farm as an SVG: node boxes (or node group boxes), then network pool boxes."""
    boxes = _node_boxes(list(snapshot.get("nodes") or []))
    boxes += [_box(p, True) for p in snapshot.get("pools") or []]
    placed: list[str] = []
    x = y = float(BOX_GAP)
    row_height = 0.0
    max_x = 0.0
    for width, height, parts in boxes:
        if x > BOX_GAP and x + width > WIDTH - BOX_GAP:
            x = BOX_GAP
            y += row_height + BOX_GAP
            row_height = 0.0
        placed.append(f'<g transform="translate({x:.0f},{y:.0f})">{"".join(parts)}</g>')
        max_x = max(max_x, x + width)
        row_height = max(row_height, height)
        x += width + BOX_GAP
    total_w = max(max_x + BOX_GAP, 200)
    total_h = y + row_height + BOX_GAP
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="farm-picture" width="{total_w:.0f}" height="{total_h:.0f}" '
        f'viewBox="0 0 {total_w:.0f} {total_h:.0f}" font-family="system-ui, sans-serif" role="img" '
        f'aria-label="farm: nodes and devices by state">{"".join(placed)}</svg>'
    )


def e(value: object) -> str:
    return html.escape(str(value), quote=True)
