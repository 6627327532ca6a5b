"""Loading a farm spec from a file, or by the name of a shipped example (small, mixed, large)."""

from __future__ import annotations

import os
from pathlib import Path

from fakedevices.farmspec.schema import FarmSpec, parse_farm_spec
from fakedevices.spec.loader import file_problem, load_document, read_spec_text

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_names() -> list[str]:
    return sorted(p.stem for p in EXAMPLES.glob("*.yaml"))


def resolve_spec_path(spec: str | Path) -> Path:
    """A regular file as given, else a shipped example by name (a folder of that name does not hide it)."""
    text = str(spec)
    names = ", ".join(example_names())
    if not text:
        raise file_problem(text, "", f"give a path to a farm spec or an example name ({names})")
    path = Path(spec)
    if path.is_file():
        return path
    if os.sep not in text and path.suffix == "" and (EXAMPLES / f"{text}.yaml").is_file():
        return EXAMPLES / f"{text}.yaml"
    if path.is_dir():
        raise file_problem(text, "a directory", f"give a farm spec file in it, or an example name ({names})")
    if path.exists():
        raise file_problem(text, "not a regular file", f"give a farm spec file, or an example name ({names})")
    raise file_problem(text, text, f"no such file; give a path or an example name ({names})")


def parse_spec_text(text: str, source: str) -> FarmSpec:
    return parse_farm_spec(load_document(text, source), source)


def load_farm_spec(spec: str | Path) -> FarmSpec:
    path = resolve_spec_path(spec)
    return parse_spec_text(read_spec_text(path), str(path))
