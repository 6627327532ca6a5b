"""What every benchmark's `main` shares: its parser, the counts and durations it takes, and how it reports."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.common import print_summary


def bench_parser(module: str, doc: str | None, out: Path | None = None) -> argparse.ArgumentParser:
    """`python -m module`, described by the first line of its docstring; with `out`, an `--out` results file."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=(doc or "").split("\n")[0])
    if out is not None:
        parser.add_argument("--out", type=Path, default=out, help=f"Results file (default: {out}).")
    return parser


def at_least_one(text: str) -> int:
    """A count: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def above_zero(text: str) -> float:
    """A duration in seconds, above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def report(document: Mapping[str, Any], out: Path) -> int:
    """Print the summary and where the results went; the exit status: 0 when every target is met."""
    print_summary(document)
    print(f"results: {out}")
    return 0 if document["pass"] else 1
