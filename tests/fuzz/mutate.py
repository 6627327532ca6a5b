"""Mutating a valid farm spec document: a value replaced, a field removed or added, a list item repeated."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.values import JSON_LIKE, ODD_KEYS

Slot = tuple[Any, Any]  # (container, key or index)


def slots(document: Any) -> list[Slot]:
    """Every place in `document` a value sits, in a stable order."""
    out: list[Slot] = []
    stack = [document]
    while stack:
        node = stack.pop()
        items = (
            list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
        )
        for key, value in items:
            out.append((node, key))
            stack.append(value)
    return out


@st.composite
def mutated(draw: st.DrawFn, base: Any, max_mutations: int = 3) -> Any:
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, max_mutations))):
        places = slots(document)
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["replace", "delete", "add", "repeat"]))
        if action == "replace":
            container[key] = draw(JSON_LIKE)
        elif action == "delete":
            del container[key]
        elif action == "add" and isinstance(container, dict):
            container[draw(ODD_KEYS)] = draw(JSON_LIKE)
        elif action == "repeat" and isinstance(container, list):
            container.insert(key, copy.deepcopy(container[key]))
        else:
            container[key] = draw(JSON_LIKE)
    return document
