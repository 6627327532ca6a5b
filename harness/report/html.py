"""`report.html`: one self-contained page (inline CSS and SVG, a few lines of inline JS, no assets)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from harness.report.farm_picture import STATE_COLOURS, farm_svg
from harness.report.results import FAILING, RunReport, TestResult
from harness.report.snapshot import STATES, state_counts

OUTCOME_LABELS = {
    "passed": "passed",
    "failed": "failed",
    "error": "error",
    "skipped": "skipped",
    "xfailed": "xfailed",
    "xpassed": "xpassed",
}

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  margin: 0; color: #111827; background: #f9fafb; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #e5e7eb; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 999px; font-weight: 600; font-size: 13px;
  vertical-align: middle; margin-left: 8px; }
.verdict.ok { background: #dcfce7; color: #166534; } .verdict.bad { background: #fee2e2; color: #991b1b; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 6px 18px;
  margin: 12px 0; padding: 12px 14px; background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; }
.facts div span { display: block; font-size: 11px; text-transform: uppercase; letter-spacing: .04em;
  color: #6b7280; }
.facts div b { font-weight: 600; word-break: break-word; }
.pills { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.pill { padding: 3px 10px; border-radius: 6px; font-weight: 600; font-size: 13px; border: 1px solid; }
.o-passed { background: #dcfce7; border-color: #86efac; color: #166534; }
.o-failed, .o-error { background: #fee2e2; border-color: #fca5a5; color: #991b1b; }
.o-skipped, .o-xfailed { background: #f3f4f6; border-color: #d1d5db; color: #4b5563; }
.o-xpassed { background: #fef9c3; border-color: #fde047; color: #854d0e; }
.o-total { background: #fff; border-color: #d1d5db; color: #111827; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; background: #fff; font-size: 13px; }
th, td { border: 1px solid #e5e7eb; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
table.matrix td, table.matrix th.col { text-align: center; white-space: nowrap; min-width: 64px; }
table.matrix th.col { font-weight: 600; }
td.c-pass { background: #bbf7d0; color: #14532d; } td.c-fail { background: #fecaca; color: #7f1d1d; font-weight: 600; }
td.c-skip { background: #e5e7eb; color: #4b5563; } td.c-none { background: #fff; color: #d1d5db; }
td.tot { background: #f9fafb; font-weight: 600; }
details.failure { background: #fff; border: 1px solid #fca5a5; border-left: 4px solid #dc2626; border-radius: 6px;
  margin: 8px 0; }
details.failure summary { cursor: pointer; padding: 7px 10px; list-style-position: inside; }
details.failure summary code { font-weight: 600; }
.why { color: #991b1b; display: block; margin: 2px 0 0 18px; font-family: ui-monospace, SFMono-Regular, Menlo,
  Consolas, monospace; font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 4px; background: #f3f4f6;
  color: #374151; margin-left: 6px; }
pre { margin: 0; padding: 10px 12px; background: #111827; color: #e5e7eb; font: 12px/1.45 ui-monospace,
  SFMono-Regular, Menlo, Consolas, monospace; overflow-x: auto; white-space: pre; border-radius: 0 0 6px 6px;
  max-height: 520px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.muted { color: #6b7280; }
.legend { display: flex; gap: 16px; flex-wrap: wrap; margin: 6px 0 10px; font-size: 13px; }
.legend i { display: inline-block; width: 14px; height: 14px; border-radius: 3px; vertical-align: -2px;
  margin-right: 5px; border: 1px solid; }
.farm svg { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; max-width: 100%; height: auto; }
.farm svg g.dev:hover rect { stroke: #111827; stroke-width: 2; }
button { font: inherit; font-size: 12px; padding: 2px 10px; border: 1px solid #d1d5db; border-radius: 5px;
  background: #fff; cursor: pointer; margin-left: 8px; }
"""

JS = """
function setAll(open) { document.querySelectorAll('details.failure').forEach(function (d) { d.open = open; }); }
"""


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _fmt_time(value: object) -> str:
    if not value:
        return "—"
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    except ValueError:
        return str(value)


def _durations(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """Setup (building programs and images before the run, bringing the cluster up) apart from the tests."""
    total = meta.get("duration_s")
    build, up = meta.get("build_s"), meta.get("cluster_up_s")
    if not isinstance(total, int | float) or not (build or up):
        return [("Duration", _fmt_duration(total))]
    setup = float(build or 0) + float(up or 0)
    tests = max(float(total) - float(up or 0), 0.0)
    return [("Setup", _fmt_duration(setup)), ("Tests", _fmt_duration(tests))]


def _header(run: RunReport) -> str:
    meta = run.metadata
    counts = run.counts
    failing = counts.get("failed", 0) + counts.get("error", 0)
    verdict = '<span class="verdict bad">FAILED</span>' if failing else '<span class="verdict ok">PASSED</span>'
    facts = [
        ("Kubernetes", meta.get("kubernetes_version")),
        ("Driver", meta.get("driver")),
        ("Profile", meta.get("profile")),
        ("Farm", meta.get("farm")),
        ("Cluster", meta.get("cluster")),
        ("Started", _fmt_time(meta.get("started"))),
        *_durations(meta),
        ("Workers", meta.get("workers")),
    ]
    known = {"kubernetes_version", "driver", "profile", "farm", "cluster", "started", "finished"}
    known |= {"duration_s", "workers", "title", "counts", "build_s", "cluster_up_s"}
    facts += [(k.replace("_", " ").capitalize(), v) for k, v in sorted(meta.items()) if k not in known]
    fact_html = "".join(
        f"<div><span>{e(label)}</span><b>{e(value if value not in (None, '') else '—')}</b></div>"
        for label, value in facts
        if value not in (None, "") or label in {"Kubernetes", "Driver", "Profile"}
    )
    pills = [f'<span class="pill o-total">{counts.get("total", 0)} tests</span>']
    for outcome, label in OUTCOME_LABELS.items():
        if counts.get(outcome):
            plural = "s" if outcome == "error" and counts[outcome] > 1 else ""
            pills.append(f'<span class="pill o-{outcome}">{counts[outcome]} {e(label)}{plural}</span>')
    title = meta.get("title") or "drafarm test report"
    return f'<h1>{e(title)}{verdict}</h1><div class="facts">{fact_html}</div><div class="pills">{"".join(pills)}</div>'


def _cell(results: list[TestResult], klass_extra: str = "") -> str:
    if not results:
        return '<td class="c-none">·</td>'
    passed = sum(1 for r in results if r.outcome in ("passed", "xpassed"))
    failing = sum(1 for r in results if r.failing)
    skipped = len(results) - passed - failing
    ran = passed + failing
    klass = "c-fail" if failing else ("c-pass" if passed else "c-skip")
    text = f"{passed}/{ran}" if ran else "skipped"
    if failing:
        text = f"{failing} ✗ · {passed}/{ran}"
    extra = f' <span class="muted">+{skipped}s</span>' if skipped and ran else ""
    tip = f"{passed} passed, {failing} failed or errored, {skipped} skipped"
    return f'<td class="{klass}{klass_extra}" title="{e(tip)}">{e(text)}{extra}</td>'


def _matrix(tests: list[TestResult]) -> str:
    if not tests:
        return '<p class="muted">No tests ran.</p>'
    suites = sorted({t.suite for t in tests})
    areas = sorted({t.area for t in tests})
    rows = [
        "<tr><th>suite \\ area</th>"
        + "".join(f'<th class="col">{e(a)}</th>' for a in areas)
        + '<th class="col">all</th></tr>'
    ]
    for suite in suites:
        in_suite = [t for t in tests if t.suite == suite]
        cells = "".join(_cell([t for t in in_suite if t.area == area]) for area in areas)
        rows.append(f"<tr><th>{e(suite)}</th>{cells}{_cell(in_suite, ' tot')}</tr>")
    totals = "".join(_cell([t for t in tests if t.area == area], " tot") for area in areas)
    rows.append(f"<tr><th>all</th>{totals}{_cell(tests, ' tot')}</tr>")
    return (
        '<p class="muted">Each cell: passed / ran (✗ = failed or errored; +Ns = skipped). Hover for counts.</p>'
        f'<div class="scroll"><table class="matrix">{"".join(rows)}</table></div>'
    )


def _first_error_line(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("E   "):
            return line[4:].strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _failures(tests: list[TestResult]) -> str:
    failing = [t for t in tests if t.failing]
    if not failing:
        return '<p class="muted">No failures.</p>'
    items = []
    for index, test in enumerate(failing):
        opened = " open" if len(failing) <= 3 and index < 3 else ""
        tags = (
            f'<span class="tag">{e(test.outcome)}{" in " + e(test.failed_phase) if test.failed_phase else ""}</span>'
            f'<span class="tag">{e(test.suite)} · {e(test.area)}</span>'
            f'<span class="tag">{e(_fmt_duration(test.duration))}</span>'
        )
        if test.worker:
            tags += f'<span class="tag">{e(test.worker)}</span>'
        items.append(
            f'<details class="failure" id="f{index}"{opened}><summary><code>{e(test.nodeid)}</code>{tags}'
            f'<span class="why">{e(_first_error_line(test.diagnostics))}</span></summary>'
            f"<pre>{e(test.diagnostics or '(no diagnostics)')}</pre></details>"
        )
    buttons = '<button onclick="setAll(true)">expand all</button><button onclick="setAll(false)">collapse all</button>'
    return f'<p class="muted">{len(failing)} failing {buttons}</p>' + "".join(items)


def _skipped(tests: list[TestResult]) -> str:
    skipped = [t for t in tests if t.outcome in ("skipped", "xfailed")]
    if not skipped:
        return '<p class="muted">Nothing skipped.</p>'
    rows = "".join(
        f"<tr><td><code>{e(t.nodeid)}</code></td><td>{e(t.suite)}</td><td>{e(t.area)}</td>"
        f"<td>{e(t.outcome)}</td><td>{e(t.skip_reason)}</td></tr>"
        for t in sorted(skipped, key=lambda t: (t.skip_reason, t.nodeid))
    )
    return (
        '<div class="scroll"><table><tr><th>test</th><th>suite</th><th>area</th><th>outcome</th><th>reason</th></tr>'
        f"{rows}</table></div>"
    )


def _farm(snapshot: Mapping[str, Any] | None) -> str:
    if not snapshot or not (snapshot.get("nodes") or snapshot.get("pools")):
        return '<p class="muted">No farm snapshot was recorded for this run.</p>'
    counts = state_counts(snapshot)
    legend = "".join(
        f'<span><i style="background:{STATE_COLOURS[s][0]};border-color:{STATE_COLOURS[s][1]}"></i>'
        f"{e(s)} <b>{counts[s]}</b></span>"
        for s in STATES
    )
    kinds = sorted(
        {
            str(d.get("kind") or "?")
            for g in list(snapshot.get("nodes") or []) + list(snapshot.get("pools") or [])
            for d in g.get("devices") or []
        }
    )
    kind_text = ", ".join(f"{k[:1].upper()} = {k}" for k in kinds)
    taken = f" · snapshot taken {e(_fmt_time(snapshot.get('taken')))}" if snapshot.get("taken") else ""
    return (
        f'<div class="legend">{legend}</div>'
        f'<p class="muted">Tile letters: {e(kind_text)}. Dashed boxes are network pools. '
        f"Hover a tile for its name, claims and driver{taken}.</p>"
        f'<div class="farm scroll">{farm_svg(snapshot)}</div>'
    )


def render_html(run: RunReport) -> str:
    tests = run.tests
    title = run.metadata.get("title") or "drafarm test report"
    sections: Iterable[str] = (
        _header(run),
        "<h2>Results by suite and feature area</h2>",
        _matrix(tests),
        f"<h2>Failures ({sum(1 for t in tests if t.outcome in FAILING)})</h2>",
        _failures(tests),
        "<h2>The farm</h2>",
        _farm(run.farm),
        f"<h2>Skipped ({sum(1 for t in tests if t.outcome in ('skipped', 'xfailed'))})</h2>",
        _skipped(tests),
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{CSS}</style><script>{JS}</script></head>"
        f"<body><main>{''.join(sections)}</main></body></html>\n"
    )
