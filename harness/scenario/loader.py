"""Reading a scenario file (bounded like a farm spec) and finding its farm: a file next to it, a shipped
example, or an inline Farm document (written to the cache so the plugin process can read it too)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from clusters import paths
from fakedevices.farm import FarmSource, open_farm
from fakedevices.spec.loader import load_document, read_spec_text
from fakedevices.spec.problems import Problem, SpecError
from harness.scenario.schema import Scenario, parse_scenario


def load_scenario(path: str | Path) -> Scenario:
    file = Path(path)
    if not file.is_file():
        raise SpecError(str(path), [Problem("file", str(path), "no such scenario file; give the path of a .yaml")])
    return parse_scenario(load_document(read_spec_text(file, "scenario"), str(file)), str(file))


def scenario_farm(scenario: Scenario) -> FarmSource:
    """The scenario's farm, checked (a bad farm is a SpecError naming the farm's file)."""
    if isinstance(scenario.farm, dict):
        text = yaml.safe_dump(scenario.farm, sort_keys=False)
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        target = paths.cache_root() / "scenarios" / "farms" / f"{scenario.name}-{digest}.yaml"
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(target)
        return open_farm(target)
    beside = Path(scenario.source).parent / scenario.farm
    return open_farm(beside if beside.is_file() else scenario.farm)
