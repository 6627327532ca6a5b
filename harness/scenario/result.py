"""What one run of a scenario on one cluster gave: per step, per expectation, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
ERROR = "error"
SKIPPED = "skipped"


@dataclass(frozen=True)
class StepResult:
    description: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class CheckResult:
    description: str
    ok: bool
    seen: str


@dataclass
class RunResult:
    scenario: str
    version: str
    steps: list[StepResult] = field(default_factory=list)
    expectations: list[CheckResult] = field(default_factory=list)
    symptoms: list[CheckResult] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)
    reason: str = ""
    """Why the run stopped early (a step failed, a gate is off), if it did."""
    cleanup: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.reason and all(e.ok for e in self.expectations) and bool(self.expectations)

    @property
    def verdict(self) -> str:
        """`not reproduced` when every expectation held; `reproduced` when one failed and every symptom
        the scenario names was seen; `inconclusive` when one failed but the symptoms were not seen."""
        if self.reason.startswith("skipped"):
            return SKIPPED
        if self.reason:
            return ERROR
        if self.passed:
            return NOT_REPRODUCED
        if all(s.ok for s in self.symptoms):
            return REPRODUCED
        return INCONCLUSIVE
