"""Re-render report.html from a results.json: `python -m harness.report reports/results.json [OUT.html]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harness.report.html import render_html
from harness.report.results import RunReport, write_atomic


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print("usage: python -m harness.report RESULTS.json [OUT.html]", file=sys.stderr)
        return 2
    source = Path(argv[0])
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        print(f"cannot read {source}: {err}; pass the results.json a drafarm run wrote", file=sys.stderr)
        return 1
    out = Path(argv[1]) if len(argv) > 1 else source.with_name("report.html")
    write_atomic(out, render_html(RunReport.from_json(data)))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
