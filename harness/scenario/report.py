"""Printing a run: per expectation PASS/FAIL with what was seen, the verdict against the scenario's
`expect` (reproduced / not reproduced per version), and a table for several versions."""

from __future__ import annotations

from collections.abc import Callable

from harness.scenario.result import RunResult
from harness.scenario.schema import Scenario

Printer = Callable[[str], None]


def expected_verdict(scenario: Scenario, version: str) -> str:
    return scenario.versions.expected(version)


def as_expected(scenario: Scenario, result: RunResult) -> bool:
    """The run behaved as the scenario says this version should; with no word on the version, every
    expectation must hold (a scenario is a regression test then)."""
    wanted = expected_verdict(scenario, result.version)
    if wanted:
        return result.verdict == wanted
    return result.verdict in ("not reproduced", "skipped")


def print_result(scenario: Scenario, result: RunResult, out: Printer) -> None:
    if result.reason:
        out(f"stopped: {result.reason}")
    if result.diagnostics:
        out("what the cluster showed:")
        for line in result.diagnostics:
            out(f"  {line}")
    for note in result.cleanup:
        out(f"cleanup: {note}")
    wanted = expected_verdict(scenario, result.version)
    note = f" (expected: {wanted})" if wanted else ""
    mark = "" if as_expected(scenario, result) else "  <-- UNEXPECTED"
    out(f"{scenario.name} on {result.version}: {result.verdict}{note}{mark}")


def print_table(results: list[tuple[Scenario, RunResult]], out: Printer) -> None:
    out("")
    out(f"{'scenario':<28} {'version':<10} {'result':<16} {'expected':<16} ok")
    for scenario, r in results:
        wanted = expected_verdict(scenario, r.version) or "-"
        ok = "yes" if as_expected(scenario, r) else "NO"
        out(f"{scenario.name:<28} {r.version:<10} {r.verdict:<16} {wanted:<16} {ok}")
