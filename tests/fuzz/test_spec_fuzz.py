"""Mutated farm specs, in-process and as files: each is accepted or gets the project's own errors.

Never a traceback, never a slow answer, never a changed file; every line of an error names the field
(or the file position), the value seen and what is allowed, and stays short.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from hypothesis import given
from hypothesis import strategies as st

from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import EXAMPLES, load_farm_spec
from fakedevices.farmspec.schema import FarmSpec, parse_farm_spec
from fakedevices.spec.problems import MAX_LINE_CHARS, MAX_PROBLEMS_SHOWN, SpecError
from tests.fuzz.budget import SPEC_DOCUMENTS, SPEC_TEXTS, budget
from tests.fuzz.mutate import mutated

BASES: dict[str, Any] = {name: yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text()) for name in ("small", "mixed")}
T = TypeVar("T")
MAX_SECONDS = 5.0  # the slow inputs of issue 14 took 30 s and more; a loaded machine stays well under this


def check_outcome(parse: Callable[[], T], source: str) -> T | None:
    """The parse's result, or None after checking its SpecError is the project's own short, named one."""
    started = time.monotonic()
    try:
        spec = parse()
    except SpecError as exc:
        lines = str(exc).splitlines()
        assert lines, "an error with no problem"
        assert len(lines) <= MAX_PROBLEMS_SHOWN + 1
        for line in lines:
            assert line.startswith(f"{source}: "), line
            assert len(line) <= MAX_LINE_CHARS + len(source) + 2, line[:200]
            assert ": got " in line or "more problem" in line, line
        return None
    finally:
        assert time.monotonic() - started < MAX_SECONDS
    return spec


def _small_enough_to_build(spec: FarmSpec) -> bool:
    return sum(g.count for g in spec.node_groups) <= 20


@budget(SPEC_DOCUMENTS)
@given(st.sampled_from(sorted(BASES)).flatmap(lambda name: mutated(BASES[name])))
def test_mutated_documents(document: Any) -> None:
    spec = check_outcome(lambda: parse_farm_spec(document, "fuzz"), "fuzz")
    if spec is not None and _small_enough_to_build(spec):
        build_farm(spec)  # an accepted spec builds


# YAML a user (or a careless generator) may put anywhere: shapes that once broke the loader.
SNIPPETS = [
    "{1: a, b: c}",
    "{null: 1, true: 2, x: 3}",
    "&loop [*loop]",
    "&m {k: *m}",
    "[" * 3000 + "]" * 3000,
    "9" * 5000,
    '"1e20000000"',
    '"{index:>100000000}"',
    "*undefined",
    "!!binary aGk=",
    "!!python/object:os.system x",
    "2001-12-14",
    "~",
    "'\u2028'",
]


def text_mutations(text: str) -> st.SearchStrategy[bytes]:
    """`text` with YAML snippets inserted as values, noise spliced in and, now and then, a non-UTF-8 byte."""
    lines = text.splitlines(keepends=True)
    noise = st.text(alphabet=st.sampled_from(list("{}[]&*!|>-:?,#'\"\t\n %@`0123456789abcxyz\\")), max_size=12)
    key = st.sampled_from(["spec", "seed", "count", "name", "namePattern", "memory", "kind", "x", "1", "null"])

    @st.composite
    def edit(draw: st.DrawFn) -> bytes:
        out = list(lines)
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(out)))
            indent = " " * (len(out[at - 1]) - len(out[at - 1].lstrip())) if at else ""
            out.insert(at, f"{indent}{draw(key)}: {draw(st.sampled_from(SNIPPETS))}\n")
        joined = "".join(out)
        for _ in range(draw(st.integers(0, 3))):
            at = draw(st.integers(0, len(joined)))
            joined = joined[:at] + draw(noise) + joined[at + draw(st.integers(0, 8)) :]
        data = joined.encode()
        if draw(st.integers(0, 9)) == 0:
            at = draw(st.integers(0, len(data)))
            data = data[:at] + b"\xff" + data[at:]
        return data

    return edit()


@budget(SPEC_TEXTS)
@given(text_mutations((EXAMPLES / "mixed.yaml").read_text()))
def test_mutated_files(tmp_path_factory: Any, data: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("spec")) / "farm.yaml"
    path.write_bytes(data)
    before = path.read_bytes()
    spec = check_outcome(lambda: load_farm_spec(path), str(path))
    if spec is not None and _small_enough_to_build(spec):
        build_farm(spec)
    assert path.read_bytes() == before
