"""`drafarm farm ...`: validate a farm spec and show the devices it gives."""

from __future__ import annotations

import sys

import click

from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.farmspec.schema import MAX_SEED, FarmSpec
from fakedevices.render_stream import STREAMERS
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


@farm.command()
@click.argument("spec")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="Override the spec's seed.")
@click.option(
    "--node",
    "bindings",
    multiple=True,
    metavar="KUBE=FARM",
    help="Serve farm node FARM on cluster node KUBE (repeatable; default: every farm node on a node of its name).",
)
@click.option("--image", default=None, help="Driver image (default: drafarm.local/driver:1, built offline).")
def manifest(spec: str, seed: int | None, bindings: tuple[str, ...], image: str | None) -> None:
    """Print the farm's DRA driver (DaemonSet, RBAC, farm ConfigMap) to `kubectl apply -f -` on any cluster.

    Label each cluster node with drafarm.dev/farm-node=<farm node> for its pod to start there."""
    from clusters.driver import manifest as driver_manifest
    from clusters.images import driver as driver_image
    from fakedevices.farm import open_farm

    try:
        source = open_farm(spec, seed)
    except SpecError as exc:
        raise click.BadParameter(f"\n{exc}", param_hint="SPEC") from exc
    farm_nodes = {n.name for n in source.farm.nodes}
    mapping: dict[str, str] = {}
    for binding in bindings:
        kube, sep, farm_node = binding.partition("=")
        if not sep or not kube or farm_node not in farm_nodes:
            raise click.BadParameter(
                f"{binding!r}: use KUBE=FARM with FARM one of {sorted(farm_nodes)}", param_hint="--node"
            )
        mapping[kube] = farm_node
    mapping = mapping or {name: name for name in sorted(farm_nodes)}
    objects = driver_manifest.objects(source.path, source.farm.seed, mapping, image or driver_image.DRIVER.ref)
    click.echo(driver_manifest.render(objects), nl=False)
