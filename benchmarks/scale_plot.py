"""`results/bench-scale.html`: the scale benchmark as a page of plots, per workload phase: pods bound per
second (bars) and the median claim allocation latency of each second (line), over the phase. One
self-contained file: inline SVG, no scripts."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 760, 180, 56, 24, 12


def phases(figures: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(title, figures) of every measured phase that has a timeline."""
    for name, value in figures.items():
        if not isinstance(value, Mapping):
            continue
        if "timeline" in value:
            yield name, value
        else:
            for sub, inner in value.items():
                if isinstance(inner, Mapping) and "timeline" in inner:
                    yield f"{name} {sub}", inner


def chart(points: Sequence[Mapping[str, Any]], key: str, unit: str, bars: bool) -> str:
    values = [float(p[key]) if p.get(key) is not None else None for p in points]
    top = max([v for v in values if v is not None], default=0.0) or 1.0
    inner_w, inner_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = inner_w / max(1, len(values))

    def y(value: float) -> float:
        return TOP + inner_h * (1 - value / top)

    parts = [
        f'<line x1="{LEFT}" y1="{TOP + inner_h}" x2="{WIDTH - 8}" y2="{TOP + inner_h}" stroke="#9ca3af"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="10">{top:g}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + inner_h}" text-anchor="end" font-size="10">0</text>',
        f'<text x="{LEFT}" y="{HEIGHT - 6}" font-size="10">0 s</text>',
        f'<text x="{WIDTH - 8}" y="{HEIGHT - 6}" text-anchor="end" font-size="10">{len(values)} s</text>',
        f'<text x="{LEFT + 4}" y="{TOP + 10}" font-size="11" font-weight="600">{html.escape(unit)}</text>',
    ]
    if bars:
        for i, value in enumerate(values):
            if value:
                parts.append(f'<rect x="{LEFT + i * step:.1f}" y="{y(value):.1f}" width="{max(step - 1, 1):.1f}" '
                             f'height="{TOP + inner_h - y(value):.1f}" fill="#2563eb"/>')  # fmt: skip
    else:
        line = " ".join(f"{LEFT + (i + 0.5) * step:.1f},{y(v):.1f}" for i, v in enumerate(values) if v is not None)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#dc2626" stroke-width="1.5"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'font-family="system-ui, sans-serif" role="img">{"".join(parts)}</svg>')  # fmt: skip


def page(document: Mapping[str, Any]) -> str:
    figures = document.get("figures") or {}
    sections = []
    for title, phase in phases(figures):
        points = list(phase.get("timeline") or [])
        allocation = phase.get("claim_allocation") or {}
        sections.append(
            f"<h2>{html.escape(title)}</h2><p>{phase.get('pods')} pods, {phase.get('pods_per_s')} pods/s on average; "
            f"claim allocation p50 {allocation.get('p50_ms')} ms, p99 {allocation.get('p99_ms')} ms</p>"
            + chart(points, "bound", "pods bound per second", bars=True)
            + chart(points, "allocation_p50_ms", "claim allocation, median of each second (ms)", bars=False)
        )
    targets = "".join(
        f"<li>{_verdict(t)} {html.escape(name)}: {_value(t)} (target {html.escape(t['target'])})</li>"
        for name, t in (document.get("targets") or {}).items()
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>drafarm scale benchmark</title>'
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:800px}svg{display:block;margin:.5em 0}"
        "</style></head><body><h1>Scale benchmark</h1>"
        f"<p>{figures.get('virtual_nodes')} virtual nodes, {figures.get('virtual_gpus')} GPUs; "
        f"{html.escape(str(document.get('timestamp', '')))}</p><ul>{targets}</ul>{''.join(sections)}</body></html>\n"
    )


def _verdict(target: Mapping[str, Any]) -> str:
    if target.get("value") is None:
        return "NOT MEASURED"
    return "PASS" if target["pass"] else "FAIL"


def _value(target: Mapping[str, Any]) -> str:
    if target.get("value") is None:
        return "its workload did not run"
    return f"{target['value']:g} {html.escape(str(target['unit']))}"


def write_page(document: Mapping[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(document))
    return path
