"""Scenario files as pytest tests: every `kind: Scenario` YAML under a `scenarios/` folder is one e2e
test that passes when the scenario behaves as its `expect` says for the cluster's version (with no word
on that version: when every expectation holds), so CI keeps known bugs as regression tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakedevices.spec.problems import SpecError
from harness.scenario.loader import load_scenario
from harness.scenario.play import play
from harness.scenario.report import as_expected


def is_scenario_file(path: Path) -> bool:
    if path.suffix not in (".yaml", ".yml") or "scenarios" not in path.parts:
        return False
    try:
        head = path.read_text(errors="replace")[:4096]
    except OSError:
        return False
    return any(line.strip() == "kind: Scenario" for line in head.splitlines())


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        yield ScenarioItem.from_parent(self, name=self.path.stem)


class ScenarioItem(pytest.Item):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_marker(pytest.mark.e2e)
        self.add_marker(pytest.mark.scenario)

    def runtest(self) -> None:
        try:
            scenario = load_scenario(self.path)
        except SpecError as exc:
            raise ScenarioFailed(str(exc)) from None
        lines: list[str] = []
        version = self.config.getoption("drafarm_k8s_version", None) or os.environ.get("K8S_VERSION") or None
        kubeconfig = self.config.getoption("drafarm_kubeconfig", None)
        beside = bool(version) and scenario.bug_in == "kube-scheduler" and not kubeconfig
        result = play(
            scenario,
            version=None if beside else version,
            scheduler_version=version if beside else None,
            kubeconfig=Path(kubeconfig) if kubeconfig else None,
            out=lines.append,
        )
        if result.verdict == "skipped":
            pytest.skip(result.reason)
        if not as_expected(scenario, result):
            raise ScenarioFailed("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.name}"


class ScenarioFailed(AssertionError):
    pass
