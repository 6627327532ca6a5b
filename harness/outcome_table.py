"""Outcomes of the same tests over several pytest runs: one row per test, one column per run (a Kubernetes
version for the matrix, a repetition for the soak), read from each run's results.json."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FAILING = ("failed", "error")


@dataclass
class OutcomeTable:
    columns: list[str]
    outcomes: dict[str, dict[str, str]] = field(default_factory=dict)
    """nodeid -> column -> outcome."""
    exit_codes: dict[str, int] = field(default_factory=dict)

    def add(self, column: str, results: Path, exit_code: int) -> None:
        self.exit_codes[column] = exit_code
        try:
            tests = json.loads(results.read_text()).get("tests") or []
        except (OSError, ValueError):
            tests = []
        for test in tests:
            self.outcomes.setdefault(str(test["nodeid"]), {})[column] = str(test["outcome"])

    def differing(self) -> list[str]:
        return [n for n, row in sorted(self.outcomes.items()) if len({row.get(c, "-") for c in self.columns}) > 1]

    def failures(self, nodeid: str) -> int:
        return sum(1 for outcome in self.outcomes.get(nodeid, {}).values() if outcome in FAILING)


def html_page(table: OutcomeTable, title: str, summary: str, extra: tuple[str, Callable[[str], str]] | None) -> str:
    """A table with a cell per run; `extra` adds a last column (its heading and its text per test)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    if extra is not None:
        head += f"<th>{html.escape(extra[0])}</th>"
    differing = set(table.differing())
    rows = []
    for nodeid, row in sorted(table.outcomes.items()):
        cells = "".join(
            f'<td class="{html.escape(row.get(c, "missing"))}">{html.escape(row.get(c, "-"))}</td>'
            for c in table.columns
        )
        if extra is not None:
            cells += f"<td>{html.escape(extra[1](nodeid))}</td>"
        mark = ' class="differs"' if nodeid in differing else ""
        rows.append(f"<tr{mark}><td>{html.escape(nodeid)}</td>{cells}</tr>")
    return (
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title><style>"
        "td,th{padding:2px 8px;font-family:monospace}.passed{background:#cfc}.failed,.error{background:#fcc}"
        ".skipped{background:#eee}tr.differs td:first-child{font-weight:bold}</style>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(summary)}</p>"
        f"<table><tr><th>test</th>{head}</tr>{''.join(rows)}</table>"
    )


def text_rows(table: OutcomeTable, width_of_cell: int = 10) -> list[str]:
    width = max([len(n) for n in table.outcomes] + [4])
    lines = [f"{'test':<{width}} " + " ".join(f"{c:<{width_of_cell}}" for c in table.columns)]
    for nodeid, row in sorted(table.outcomes.items()):
        lines.append(f"{nodeid:<{width}} " + " ".join(f"{row.get(c, '-'):<{width_of_cell}}" for c in table.columns))
    return lines
