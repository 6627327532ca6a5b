"""Whether a local cluster runs: its components' processes alive, and its API server answering."""

from __future__ import annotations

from collections.abc import Iterable

from clusters.local import processes, readiness
from clusters.local.components import COMPONENTS
from clusters.local.config import LocalConfig
from clusters.local.layout import Layout
from clusters.polling import poll


def component_pids(layout: Layout) -> dict[str, int | None]:
    return {c: processes.read_pid(layout, c) for c in COMPONENTS}


def all_alive(layout: Layout, components: Iterable[str] = COMPONENTS) -> bool:
    found = [processes.read_pid(layout, c) for c in components]
    return all(pid is not None and processes.alive(pid) for pid in found)


def running(cfg: LocalConfig, layout: Layout, patience: float = 0.0, components: Iterable[str] = COMPONENTS) -> bool:
    """The processes of `components` alive and the API server ready; a busy API server (a loaded machine)
    gets up to `patience` seconds to answer."""
    names = tuple(components)

    def dead() -> bool:
        return not all_alive(layout, names)

    settled = poll(lambda: dead() or readiness.apiserver_ready(cfg.apiserver_url, layout), patience, 0.5)
    return settled and not dead()
