"""Which scenario runs on which version, ordered so each version's cluster comes up once."""

from __future__ import annotations

from harness.scenario.schema import Scenario


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.lstrip("v").split("."))


def expected_versions(scenario: Scenario, which: str) -> list[str]:
    """`pair`: the newest bug version and the oldest fixed one (the two around the fix); `all`: every one."""
    bug = sorted(scenario.versions.bug, key=_key)
    fixed = sorted(scenario.versions.fixed, key=_key)
    if which == "all":
        return [*bug, *fixed]
    return [*bug[-1:], *fixed[:1]]


def run_plan(
    scenarios: list[Scenario], versions: tuple[str, ...], expected: str | None
) -> list[tuple[str | None, Scenario]]:
    if not expected:
        return [(v, s) for v in (versions or (None,)) for s in scenarios]
    pairs = [(v, s) for s in scenarios for v in expected_versions(s, expected)]
    pairs += [(v, s) for v in versions for s in scenarios]
    seen: set[tuple[str, str]] = set()
    plan: list[tuple[str | None, Scenario]] = []
    for version, scenario in sorted(pairs, key=lambda p: _key(p[0])):
        if (version, scenario.name) not in seen:
            seen.add((version, scenario.name))
            plan.append((version, scenario))
    return plan
