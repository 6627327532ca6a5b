"""What every benchmark's `main` shares: its parser, the counts and durations it takes, and how it reports."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.common import print_summary

N = TypeVar("N", int, float)


def bench_parser(module: str, doc: str | None, out: Path | None = None) -> argparse.ArgumentParser:
    """`python -m module`, described by the first line of its docstring; with `out`, an `--out` results file."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=(doc or "").split("\n")[0])
    if out is not None:
        parser.add_argument("--out", type=Path, default=out, help=f"Results file (default: {out}).")
    return parser


def _number(parse: Callable[[str], N], kind: str, ok: Callable[[N], bool], need: str) -> Callable[[str], N]:
    """An argparse type: `parse` the text as `kind`, and take only values `ok` says are `need`."""

    def convert(text: str) -> N:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {need}, got {text}")
        return value

    return convert


at_least_one = _number(int, "a whole number", lambda count: count >= 1, "at least 1")
"""A count: a whole number, 1 or more."""
above_zero = _number(float, "a number of seconds", lambda seconds: seconds > 0, "above 0")
"""A duration in seconds, above 0."""


def report(document: Mapping[str, Any], out: Path) -> int:
    """Print the summary and where the results went; the exit status: 0 when every target is met."""
    print_summary(document)
    print(f"results: {out}")
    return 0 if document["pass"] else 1
