"""`drafarm toolchain`: build and list the pinned Kubernetes toolchain."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from clusters import paths
from clusters.toolchain import builder, components, versions
from clusters.toolchain.goenv import GoMissingError
from clusters.toolchain.progress import BuildProgress

_VERSION_HELP = f"Kubernetes version (default: ${versions.VERSION_ENV} or {versions.DEFAULT.kubernetes})."


def _pins(version: str | None) -> versions.ToolPins:
    try:
        return versions.resolve(version)
    except versions.VersionError as exc:
        raise click.BadParameter(str(exc), param_hint="--k8s-version") from exc


def _module_names(only: tuple[str, ...], with_extras: bool) -> tuple[str, ...]:
    if only:
        return only
    return components.CLUSTER_MODULES + (components.EXTRA_MODULES if with_extras else ())


@click.group()
def toolchain() -> None:
    """Build real Kubernetes components (and etcd, containerd, CNI, crictl, kind, kwok) from Go modules."""


@toolchain.command()
@click.option("--k8s-version", envvar=versions.VERSION_ENV, default=None, help=_VERSION_HELP)
@click.option("--only", multiple=True, metavar="MODULE", help="Build only this module (repeatable).")
@click.option("--extras/--no-extras", default=True, show_default=True, help="Also build kind and kwok.")
def build(k8s_version: str | None, only: tuple[str, ...], extras: bool) -> None:
    """Build whatever is missing from the cache; a no-op when everything is built."""
    pins = _pins(k8s_version)
    try:
        mods = components.modules(pins, _module_names(only, extras))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--only") from exc
    total = sum(len(m.binaries) for m in mods)
    console = Console(stderr=True, soft_wrap=True)
    console.print(f"toolchain for Kubernetes {pins.kubernetes} → {paths.toolchain_root()}")
    if console.is_terminal:
        results = _build_with_bars(console, mods, total)
    else:  # a log file or CI: a line per step and a heartbeat, not a live display that prints at the end
        names = tuple(m.name for m in mods)
        with BuildProgress(pins, lambda text: console.print(text, highlight=False, markup=False), names) as lines:
            results = _build(mods, lines)
    failed = [r for r in results if r.outcome == "failed"]
    for r in failed:
        console.print(f"[red]{r.module}/{r.binary} failed[/]: {r.detail}")
    built = sum(1 for r in results if r.outcome == "built")
    console.print(f"{built} built, {len(results) - built - len(failed)} cached, {len(failed)} failed")
    if failed:
        sys.exit(1)


def _build(mods: list[components.Module], report: builder.Reporter) -> list[builder.BuildResult]:
    try:
        return builder.build(mods, report)
    except GoMissingError as exc:
        raise click.ClickException(str(exc)) from exc


def _build_with_bars(console: Console, mods: list[components.Module], total: int) -> list[builder.BuildResult]:
    """A live display for a terminal: a bar per binary and one for the whole build."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        overall = progress.add_task("all components", total=total)
        current: dict[str, TaskID] = {}

        def report(module: str, binary: str, phase: str) -> None:
            label = f"{module}/{binary}"
            if phase == "building":
                return
            if phase == "start":
                current[label] = progress.add_task(f"{label}: checking / building", total=1)
                return
            task = current.pop(label)
            style = {"cached": "cached", "built": "[green]built[/]", "failed": "[red]FAILED[/]"}[phase]
            progress.update(task, description=f"{label}: {style}", completed=1)
            progress.advance(overall)

        return _build(mods, report)


@toolchain.command()
@click.option("--k8s-version", envvar=versions.VERSION_ENV, default=None, help=_VERSION_HELP)
def status(k8s_version: str | None) -> None:
    """List the toolchain's binaries and whether each is built."""
    pins = _pins(k8s_version)
    table = Table(title=f"toolchain for Kubernetes {pins.kubernetes}")
    for col in ("module", "binary", "state"):
        table.add_column(col, no_wrap=True)
    table.add_column("path", overflow="fold")
    rows = builder.status(components.modules(pins))
    for row in rows:
        state = "[green]built[/]" if row.built else "[yellow]missing[/]"
        table.add_row(row.module, row.binary, state, str(row.path))
    Console().print(table)
    missing = sum(1 for r in rows if not r.built)
    if missing:
        Console(stderr=True).print(f"{missing} missing: run `drafarm toolchain build --k8s-version {pins.kubernetes}`")
