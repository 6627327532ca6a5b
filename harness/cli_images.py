"""`drafarm images`: build the offline images (today: the kind node image)."""

from __future__ import annotations

import time

import click
from rich.console import Console

from clusters.host import dockerd
from clusters.host.docker_cli import DockerError
from clusters.images.node import base, controlplane
from clusters.images.node.build import NodeImageError, build_node_image
from clusters.toolchain import versions

_err = Console(stderr=True)


@click.group()
def images() -> None:
    """Container images built offline from Debian packages and the pinned toolchain."""


@images.command("build-node")
@click.option(
    "--k8s-version",
    envvar=versions.VERSION_ENV,
    default=None,
    help=f"Kubernetes version (default: {versions.DEFAULT.kubernetes}).",
)
def build_node(k8s_version: str | None) -> None:
    """Build the kind node image (cached: a no-op when no input changed); print its reference."""
    start = time.monotonic()

    def report(text: str) -> None:
        _err.print(f"[{time.monotonic() - start:6.1f}s] {text}", highlight=False, markup=False)

    try:
        endpoint = dockerd.ensure(report)
        image = build_node_image(k8s_version, endpoint, report)
    except versions.VersionError as exc:
        raise click.BadParameter(str(exc), param_hint="--k8s-version") from exc
    except (
        NodeImageError,
        DockerError,
        base.BaseImageError,
        controlplane.ControlPlaneImageError,
    ) as exc:
        raise click.ClickException(str(exc)) from exc
    state = "cached" if image.cached else "built"
    _err.print(f"node image {state} in {image.seconds:.1f}s", highlight=False)
    click.echo(image.ref)
