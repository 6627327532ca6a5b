"""Loading a farm spec from a file, or by the name of a shipped example (small, mixed, large)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from fakedevices.spec.bounded_yaml import MAX_DOCUMENT_BYTES, YamlLimitError, load_bounded
from fakedevices.spec.farmspec import FarmSpec, parse_farm_spec
from fakedevices.spec.problems import Problem, SpecError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_names() -> list[str]:
    return sorted(p.stem for p in EXAMPLES.glob("*.yaml"))


def _file_problem(spec: str, seen: str, allowed: str) -> SpecError:
    return SpecError(spec or '""', [Problem("file", seen, allowed)])


def resolve_spec_path(spec: str | Path) -> Path:
    """A regular file as given, else a shipped example by name (a folder of that name does not hide it)."""
    text = str(spec)
    names = ", ".join(example_names())
    if not text:
        raise _file_problem(text, "", f"give a path to a farm spec or an example name ({names})")
    path = Path(spec)
    if path.is_file():
        return path
    if os.sep not in text and path.suffix == "" and (EXAMPLES / f"{text}.yaml").is_file():
        return EXAMPLES / f"{text}.yaml"
    if path.is_dir():
        raise _file_problem(text, "a directory", f"give a farm spec file in it, or an example name ({names})")
    if path.exists():
        raise _file_problem(text, "not a regular file", f"give a farm spec file, or an example name ({names})")
    raise _file_problem(text, text, f"no such file; give a path or an example name ({names})")


def read_spec_text(path: Path, what: str = "farm spec") -> str:
    """The file's text, refusing what no farm spec (profile, scenario) is: too large, unreadable, not UTF-8."""
    source = str(path)
    try:
        with path.open("rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise _file_problem(source, "not a regular file", f"give a {what} file")
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise _file_problem(source, exc.strerror or str(exc), "make the file readable (or give another)") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _file_problem(
            source, f"more than {MAX_DOCUMENT_BYTES} bytes", f"a {what} is at most {MAX_DOCUMENT_BYTES // 1024} KiB"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _file_problem(
            source, f"byte {data[exc.start]:#04x} at offset {exc.start}", "the file must be UTF-8 text"
        ) from None


def load_document(text: str, source: str) -> Any:
    """A YAML document read within the spec limits (size, nesting, aliases, integers); SpecError otherwise."""
    try:
        return load_bounded(text)
    except YamlLimitError as exc:
        raise SpecError(source, [Problem(_where(exc), exc.seen, exc.allowed)]) from None
    except yaml.YAMLError as exc:
        problem = str(getattr(exc, "problem", None) or exc)
        raise SpecError(source, [Problem(_where(exc), problem, "not valid YAML")]) from None


def parse_spec_text(text: str, source: str) -> FarmSpec:
    return parse_farm_spec(load_document(text, source), source)


def load_farm_spec(spec: str | Path) -> FarmSpec:
    path = resolve_spec_path(spec)
    return parse_spec_text(read_spec_text(path), str(path))


def _where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "document"
