"""The envelope shared by every kind's opaque configuration (claim or class `config[].opaque.parameters`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fakedevices.dra_limits import MAX_OPAQUE_PARAMETERS_BYTES
from fakedevices.spec.problems import Problem, SpecError
from fakedevices.spec.reader import Reader

CONFIG_API_VERSION = "drafarm.dev/v1alpha1"
T = TypeVar("T")


def parse_opaque(
    parameters: Mapping[str, Any] | Any,
    path: str,
    config_kind: str,
    read_body: Callable[[Reader], T],
) -> T:
    """Check apiVersion and kind, let `read_body` read the rest, and raise SpecError listing every problem."""
    problems: list[Problem] = []
    try:
        size = len(json.dumps(parameters, default=str))
    except (ValueError, RecursionError):  # a value that contains itself, or nests past the stack
        raise SpecError(
            "opaque config", [Problem(path, "a value nested too deeply", "at most 10 KiB of JSON")]
        ) from None
    if size > MAX_OPAQUE_PARAMETERS_BYTES:
        raise SpecError("opaque config", [Problem(path, f"{size} bytes", "at most 10 KiB of parameters")])
    r = Reader(parameters, path, problems)
    r.string(
        "apiVersion",
        pattern=None,
        choices=(CONFIG_API_VERSION,),
    )
    r.string("kind", choices=(config_kind,))
    body = read_body(r)
    r.finish()
    if problems:
        raise SpecError("opaque config", problems)
    return body
