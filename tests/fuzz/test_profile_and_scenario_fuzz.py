"""Mutated driver profiles and scenario files, in-process and as files: each is accepted or gets the
project's own one-line-per-problem error naming the field; never a traceback, a slow answer or a changed
file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from harness.profiles import load_profile, parse_profile
from harness.scenario.loader import load_scenario
from harness.scenario.schema import parse_scenario
from tests.fuzz.budget import PROFILE_OR_SCENARIO_DOCUMENTS, PROFILE_OR_SCENARIO_TEXTS, budget
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


READERS: dict[str, tuple[dict[str, str], Callable[[Any, str], object], Callable[[Path], object]]] = {
    "profile": (PROFILES, parse_profile, load_profile),
    "scenario": (SCENARIOS, parse_scenario, load_scenario),
}


@pytest.mark.parametrize("what", sorted(READERS))
@budget(PROFILE_OR_SCENARIO_DOCUMENTS)
@given(data=st.data())
def test_mutated_documents(what: str, data: st.DataObject) -> None:
    texts, parse, _ = READERS[what]
    document = data.draw(_documents(texts))
    check_outcome(lambda: parse(document, "fuzz"), "fuzz")


@pytest.mark.parametrize("what", sorted(READERS))
@budget(PROFILE_OR_SCENARIO_TEXTS)
@given(data=st.data())
def test_mutated_files(tmp_path_factory: Any, what: str, data: st.DataObject) -> None:
    texts, _, load = READERS[what]
    content = data.draw(_texts(texts))
    path = Path(tmp_path_factory.mktemp(what)) / f"{what}.yaml"
    path.write_bytes(content)
    check_outcome(lambda: load(path), str(path))
    assert path.read_bytes() == content
