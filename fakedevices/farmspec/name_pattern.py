"""A node group's `namePattern`: checked by its parts before anything is formatted with it."""

from __future__ import annotations

import re
import string

from fakedevices.dra_limits import MAX_DNS_LABEL_LENGTH
from fakedevices.spec.reader import DNS_SUBDOMAIN

FIELDS = ("index", "group")
MAX_PATTERN_LENGTH = 253
# Zero padding to a small width is the one format spec a node name needs: {index:03d}.
_FORMAT_SPEC = re.compile(r"^(0[1-9]d?)?$")


def name_pattern_problem(pattern: str, group: str, count: int) -> str | None:
    """What is wrong with `pattern` for a group of `count` nodes, or None."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"at most {MAX_PATTERN_LENGTH} characters (a node name is a DNS label of at most 63)"
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError:
        return "unbalanced braces; only {index} and {group} may appear in braces"
    fields = [field for _, field, _, _ in parts if field is not None]
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in FIELDS or conversion or (spec and field != "index") or not _FORMAT_SPEC.match(spec or ""):
            return "only {index}, {index:0Nd} (N = 1..9) and {group} may appear in braces"
    if "index" not in fields:
        return 'must contain "{index}", e.g. "gpu-node-{index}"'
    for index in (0, count - 1):
        name = pattern.format(index=index, group=group)
        if not DNS_SUBDOMAIN.match(name) or len(name) > MAX_DNS_LABEL_LENGTH:
            return (
                f"gives node name {name[:80]!r} (index {index}), which is not a lowercase DNS name of at most "
                f"{MAX_DNS_LABEL_LENGTH} characters"
            )
    return None
