"""Loading a farm spec from a file, or by the name of a shipped example (small, mixed, large)."""

from __future__ import annotations

from pathlib import Path

import yaml

from fakedevices.spec.farmspec import FarmSpec, parse_farm_spec
from fakedevices.spec.problems import Problem, SpecError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_names() -> list[str]:
    return sorted(p.stem for p in EXAMPLES.glob("*.yaml"))


def resolve_spec_path(spec: str | Path) -> Path:
    """A path as given, or a shipped example by name."""
    path = Path(spec)
    if path.exists():
        return path
    if path.suffix == "" and (EXAMPLES / f"{path.name}.yaml").exists():
        return EXAMPLES / f"{path.name}.yaml"
    names = ", ".join(example_names())
    raise SpecError(str(spec), [Problem("file", str(spec), f"no such file; give a path or an example name ({names})")])


def load_farm_spec(spec: str | Path) -> FarmSpec:
    path = resolve_spec_path(spec)
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "document"
        raise SpecError(str(path), [Problem(where, str(getattr(exc, "problem", exc)), "not valid YAML")]) from exc
    return parse_farm_spec(document, str(path))
