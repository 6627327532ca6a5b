"""The local cluster's virtual nodes: the farm nodes its one real node does not serve, when the farm
marks them virtual (or the farm is deployed with `--virtual-nodes`), as a fleet kept by kwok."""

from __future__ import annotations

from pathlib import Path

from clusters.local.config import LocalConfig
from clusters.local.layout import Layout
from clusters.provider import StepReporter
from clusters.toolchain import lookup
from clusters.virtual.fleet import VirtualFleet
from fakedevices.dra_limits import counters_separate
from fakedevices.farm import FarmSource
from fakedevices.model import Farm, Node


def served_node(farm: Farm) -> Node:
    """The farm node the real node serves: the first one not marked virtual (else the first)."""
    real, _ = farm.split(1)
    return real[0] if real else farm.nodes[0]


def virtual_nodes(source: FarmSource) -> tuple[Node, ...]:
    served = served_node(source.farm).name
    return tuple(n for n in source.farm.split(1, source.rest_virtual)[1] if n.name != served)


def fleets_dir(layout: Layout) -> Path:
    return layout.root / "virtual"


def fleet(cfg: LocalConfig, layout: Layout, name: str) -> VirtualFleet:
    kwok = lookup.program(cfg.pins, "kwok", "kwok")
    return VirtualFleet(name, layout.admin_kubeconfig, kwok, fleets_dir(layout) / name)


def deploy(cfg: LocalConfig, layout: Layout, source: FarmSource, report: StepReporter) -> tuple[str, ...]:
    """Bring the farm's virtual nodes up (none: nothing happens); their names."""
    nodes = virtual_nodes(source)
    if not nodes:
        return ()
    report(f"virtual nodes: {len(nodes)} of farm {source.farm.name} (kwok, built on first use)")
    fleet(cfg, layout, source.farm.name).up(
        source.farm.driver, nodes, counters_separate=counters_separate(cfg.minor), report=report
    )
    return tuple(n.name for n in nodes)


def remove(cfg: LocalConfig, layout: Layout, name: str, api_up: bool) -> None:
    """Take a fleet away: its objects too while the API server runs, else only its kwok."""
    existing = fleets_dir(layout) / name
    if not existing.exists():
        return
    gone = fleet(cfg, layout, name)
    if api_up:
        gone.down()
    else:
        gone.stop_kwok()


def names(layout: Layout) -> list[str]:
    root = fleets_dir(layout)
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
