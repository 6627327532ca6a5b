"""Mutated driver profiles and scenario files, in-process and as files: each is accepted or gets the
project's own one-line-per-problem error naming the field; never a traceback, a slow answer or a changed
file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from harness.profiles import load_profile, parse_profile
from harness.scenario.loader import load_scenario
from harness.scenario.schema import parse_scenario
from tests.fuzz.budget import PROFILE_DOCUMENTS, PROFILE_TEXTS, SCENARIO_DOCUMENTS, SCENARIO_TEXTS, budget
from tests.fuzz.mutate import mutated
from tests.fuzz.test_spec_fuzz import check_outcome, text_mutations

ROOT = Path(__file__).resolve().parents[2]
PROFILES = {p.name: p.read_text() for p in sorted((ROOT / "suites" / "profiles").glob("*.yaml"))}
SCENARIOS = {p.name: p.read_text() for p in sorted((ROOT / "scenarios").glob("*.yaml"))}


def _documents(texts: dict[str, str]) -> st.SearchStrategy[Any]:
    bases = {name: yaml.safe_load(text) for name, text in texts.items()}
    return st.sampled_from(sorted(bases)).flatmap(lambda name: mutated(bases[name]))


def _texts(texts: dict[str, str]) -> st.SearchStrategy[bytes]:
    return st.one_of(*(text_mutations(text) for _, text in sorted(texts.items())))


@budget(PROFILE_DOCUMENTS)
@given(_documents(PROFILES))
def test_mutated_profile_documents(document: Any) -> None:
    check_outcome(lambda: parse_profile(document, "fuzz"), "fuzz")


@budget(PROFILE_TEXTS)
@given(_texts(PROFILES))
def test_mutated_profile_files(tmp_path_factory: Any, data: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("profile")) / "profile.yaml"
    path.write_bytes(data)
    check_outcome(lambda: load_profile(path), str(path))
    assert path.read_bytes() == data


@budget(SCENARIO_DOCUMENTS)
@given(_documents(SCENARIOS))
def test_mutated_scenario_documents(document: Any) -> None:
    check_outcome(lambda: parse_scenario(document, "fuzz"), "fuzz")


@budget(SCENARIO_TEXTS)
@given(_texts(SCENARIOS))
def test_mutated_scenario_files(tmp_path_factory: Any, data: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("scenario")) / "scenario.yaml"
    path.write_bytes(data)
    check_outcome(lambda: load_scenario(path), str(path))
    assert path.read_bytes() == data
