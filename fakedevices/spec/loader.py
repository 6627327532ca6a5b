"""Reading a document file within the spec limits: a regular file of at most 1 MiB of UTF-8, YAML within
bounds (farm specs, driver profiles and scenarios are all read this way)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from fakedevices.spec.bounded_yaml import MAX_DOCUMENT_BYTES, YamlLimitError, load_bounded
from fakedevices.spec.problems import Problem, SpecError


def file_problem(spec: str, seen: str, allowed: str) -> SpecError:
    return SpecError(spec or '""', [Problem("file", seen, allowed)])


def read_spec_text(path: Path, what: str = "farm spec") -> str:
    """The file's text, refusing what no farm spec (profile, scenario) is: too large, unreadable, not UTF-8."""
    source = str(path)
    try:
        with path.open("rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise file_problem(source, "not a regular file", f"give a {what} file")
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise file_problem(source, exc.strerror or str(exc), "make the file readable (or give another)") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise file_problem(
            source, f"more than {MAX_DOCUMENT_BYTES} bytes", f"a {what} is at most {MAX_DOCUMENT_BYTES // 1024} KiB"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise file_problem(
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


def _where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "document"
