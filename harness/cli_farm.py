"""`drafarm farm ...`: validate a farm spec and show the devices it gives."""

from __future__ import annotations

import sys

import click

from fakedevices.render_stream import STREAMERS
from fakedevices.spec.farmspec import MAX_SEED, FarmSpec
from fakedevices.spec.loader import load_farm_spec
from fakedevices.spec.problems import SpecError

EXIT_INVALID = 2


def _load(spec: str) -> FarmSpec:
    try:
        return load_farm_spec(spec)
    except SpecError as exc:
        for line in str(exc).splitlines():
            click.echo(line, err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; nothing was changed.", err=True)
        sys.exit(EXIT_INVALID)


@click.group()
def farm() -> None:
    """Farm specs: which fake devices exist and what Kubernetes sees of them."""


@farm.command()
@click.argument("spec")
def validate(spec: str) -> None:
    """Check SPEC (a path, or an example name: small, mixed, large); exit 2 listing every problem."""
    parsed = _load(spec)
    nodes = sum(g.count for g in parsed.node_groups)
    click.echo(f"{spec}: valid farm {parsed.name!r}: {nodes} nodes, {len(parsed.network_pools)} network pools")


@farm.command()
@click.argument("spec")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="Override the spec's seed.")
@click.option("-o", "--output", "output", type=click.Choice(sorted(STREAMERS)), default="table", show_default=True)
def show(spec: str, seed: int | None, output: str) -> None:
    """Print the nodes and devices SPEC gives, with every attribute and capacity."""
    parsed = _load(spec)
    STREAMERS[output](parsed, seed, sys.stdout.write)
