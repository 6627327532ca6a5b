"""YAML read with bounds checked before the work they limit: size, nesting, alias expansion, integers.

A farm spec is small; a document that is not (a billion-laughs alias tree, thousands of nesting levels,
a 10,000-digit integer, a 50 MB file) is refused with the line it goes wrong on, before it costs seconds
or gigabytes. Duplicate mapping keys are errors too (YAML says keys are unique; PyYAML keeps the last).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DOCUMENT_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_EXPANDED_NODES = 100_000
MAX_INTEGER_DIGITS = 40


class YamlLimitError(yaml.MarkedYAMLError):
    """A document over one of the bounds; `allowed` says which and what to do."""

    def __init__(self, mark: Any, seen: str, allowed: str) -> None:
        super().__init__(problem=seen, problem_mark=mark)
        self.seen = seen
        self.allowed = allowed


_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _BoundedLoader(_Loader):  # type: ignore[misc]
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # unhashable: the base constructor reports it
            if duplicate:
                raise YamlLimitError(
                    key_node.start_mark, f"duplicate key {str(key)[:60]!r}", "each key may appear once in a mapping"
                )
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]

    def construct_yaml_int(self, node: ScalarNode) -> int:
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_INTEGER_DIGITS:
            raise YamlLimitError(
                node.start_mark,
                f"an integer of {digits} digits",
                f"integers have at most {MAX_INTEGER_DIGITS} digits",
            )
        return super().construct_yaml_int(node)  # type: ignore[no-any-return]


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def _check_expansion(root: Node) -> None:
    """Count nodes as a consumer walking the data would meet them (an alias counts its whole target
    again), and refuse a cycle (an anchor used inside itself)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > MAX_EXPANDED_NODES:
                raise YamlLimitError(
                    node.start_mark,
                    f"more than {MAX_EXPANDED_NODES} values once aliases are expanded",
                    "use fewer aliases (a farm spec needs no more than a few hundred values)",
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YamlLimitError(
                node.start_mark, "an anchor used inside itself", "aliases must not refer to their own anchor"
            )
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise YamlLimitError(
                    child.start_mark, "an anchor used inside itself", "aliases must not refer to their own anchor"
                )
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_events(text: str) -> None:
    """Nesting and node count from the parser's events (a flat stream, cheap), before composing."""
    depth = nodes = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                seen, allowed = f"nesting deeper than {MAX_DEPTH} levels", f"at most {MAX_DEPTH} levels of nesting"
                raise YamlLimitError(event.start_mark, seen, allowed)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_EXPANDED_NODES:
                raise YamlLimitError(
                    event.start_mark,
                    f"more than {MAX_EXPANDED_NODES} values",
                    "a farm spec needs no more than a few thousand values",
                )


def load_bounded(text: str) -> Any:
    """One YAML document, or `yaml.YAMLError` (a `YamlLimitError` for a bound)."""
    _check_events(text)
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()
