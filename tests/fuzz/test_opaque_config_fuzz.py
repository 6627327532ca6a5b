"""Opaque device configs of every shape: each kind parses them or raises its own `SpecError`, fast."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fakedevices.kinds import registry
from fakedevices.kinds.opaque import CONFIG_API_VERSION
from fakedevices.quantity import QuantityError, parse_quantity
from fakedevices.spec.problems import MAX_LINE_CHARS, SpecError
from tests.fuzz.budget import OPAQUE_CONFIGS, QUANTITIES, budget
from tests.fuzz.values import JSON_LIKE

KIND_NAMES = sorted(registry.names())
FIELDS = [
    "sharing",
    "strategy",
    "timeSlicing",
    "interval",
    "spacePartitioning",
    "partitionCount",
    "bitstream",
    "name",
    "family",
    "sha256",
    "mode",
    "bandwidthMbps",
]


@st.composite
def configs(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(KIND_NAMES))
    parameters: Any = {"apiVersion": CONFIG_API_VERSION, "kind": registry.get(kind).config_kind}
    for _ in range(draw(st.integers(0, 4))):
        parameters[draw(st.sampled_from(FIELDS) | st.text(max_size=6))] = draw(
            JSON_LIKE | st.dictionaries(st.sampled_from(FIELDS), JSON_LIKE, max_size=3)
        )
    if draw(st.booleans()):
        parameters = draw(JSON_LIKE)
    return kind, parameters


@budget(OPAQUE_CONFIGS)
@given(configs())
def test_opaque_configs(case: tuple[str, Any]) -> None:
    kind, parameters = case
    started = time.monotonic()
    try:
        registry.get(kind).parse_config(parameters, "request 'gpu' opaque config")
    except SpecError as exc:
        for line in str(exc).splitlines():
            assert ": got " in line and len(line) <= MAX_LINE_CHARS + 40, line
    assert time.monotonic() - started < 2.0


@budget(QUANTITIES)
@given(
    st.text(alphabet="0123456789.eE+-KMGTPEimnuk ", max_size=40)
    | st.from_regex(r"[0-9]{1,60}(\.[0-9]{0,60})?([eE][+-]?[0-9]{1,12})?(Ki|Mi|Gi|Ei|k|M|m)?", fullmatch=True)
)
def test_quantities(text: str) -> None:
    started = time.monotonic()
    with contextlib.suppress(QuantityError):
        parse_quantity(text)
    assert time.monotonic() - started < 1.0


def test_deep_and_cyclic_parameters() -> None:
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    cyclic: dict[str, Any] = {"apiVersion": CONFIG_API_VERSION, "kind": "GpuConfig"}
    cyclic["sharing"] = cyclic
    for parameters in ({"apiVersion": CONFIG_API_VERSION, "kind": "GpuConfig", "sharing": deep}, cyclic):
        try:
            registry.get("gpu").parse_config(parameters, "request 'gpu' opaque config")
        except SpecError as exc:
            assert "request 'gpu' opaque config: got" in str(exc)
        else:
            raise AssertionError("accepted")
