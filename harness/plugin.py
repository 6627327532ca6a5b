"""The drafarm pytest plugin: registered through the `pytest11` entry point.

It registers drafarm's markers and options; fixtures for clusters, namespaces and builders live in
their own modules and are added here as the harness grows.
"""

from __future__ import annotations

import pytest

MARKERS = {
    "e2e": "needs a real cluster (slow); deselect with -m 'not e2e'",
    "dra_gate(name)": "needs the named DRA feature gate on the cluster; skipped with the reason otherwise",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, help_text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drafarm")
    group.addoption(
        "--drafarm-farm",
        default="small",
        help="farm spec (path or example name) the run's cluster carries [default: small]",
    )
