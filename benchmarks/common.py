"""What every benchmark shares: timing statistics, the machine, targets, and the results file."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_VERSION = 1


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of unsorted samples; needs at least one sample."""
    if not samples:
        raise ValueError("percentile of no samples")
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def latency_summary_ms(seconds: Sequence[float]) -> dict[str, float | int]:
    """p50/p90/p99/min/max/mean in milliseconds of per-call durations in seconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "min_ms": round(min(ms), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


@dataclass(frozen=True)
class Target:
    """One figure's target: `value <= limit` (at_most) or `value >= limit`."""

    name: str
    figure: str
    limit: float
    unit: str
    at_most: bool

    def check(self, value: float | None) -> dict[str, Any]:
        passed = value is not None and (value <= self.limit if self.at_most else value >= self.limit)
        return {
            "figure": self.figure,
            "value": value,
            "target": f"{'<=' if self.at_most else '>='} {self.limit:g} {self.unit}",
            "limit": self.limit,
            "unit": self.unit,
            "pass": passed,
        }


def figure(figures: Mapping[str, Any], dotted: str) -> float | None:
    """The number at a dotted path (`throughput.prepares_per_second`), or None when it is missing."""
    value: Any = figures
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "cpus_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def results_document(
    benchmark: str,
    parameters: Mapping[str, Any],
    figures: Mapping[str, Any],
    targets: Mapping[str, dict[str, Any]],
    *,
    started: float,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "version": RESULTS_VERSION,
        "benchmark": benchmark,
        "timestamp": timestamp(),
        "duration_seconds": round(time.monotonic() - started, 3),
        "machine": machine(),
        "parameters": dict(parameters),
        "figures": dict(figures),
        "targets": dict(targets),
        "pass": all(t["pass"] for t in targets.values()),
        "notes": list(notes),
    }


def write_results(path: Path, document: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path


def summary_lines(document: Mapping[str, Any]) -> list[str]:
    """One line per target: `PASS  name  value  (target)`, then the overall verdict."""
    lines = [f"{document['benchmark']}:"]
    for name, target in document["targets"].items():
        value = target["value"]
        shown = "n/a" if value is None else f"{value:g} {target['unit']}"
        lines.append(f"  {'PASS' if target['pass'] else 'FAIL'}  {name:<28} {shown:<16} (target {target['target']})")
    lines.append(f"  => {'all targets met' if document['pass'] else 'TARGETS MISSED'}")
    return lines


def print_summary(document: Mapping[str, Any]) -> None:
    print("\n".join(summary_lines(document)), file=sys.stdout, flush=True)
