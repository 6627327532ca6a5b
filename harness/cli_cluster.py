"""`drafarm cluster`: bring a real Kubernetes cluster up and down."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from clusters import paths, shared
from clusters import provider as providers
from clusters.local.config import ConfigError
from clusters.provider import ClusterError, ClusterProvider
from clusters.toolchain import versions
from fakedevices.farm import FarmSource, open_farm
from fakedevices.spec.problems import SpecError

_err = Console(stderr=True)


def _provider(
    name: str, k8s_version: str | None, cluster_name: str | None, workers: int | None = None, **kind: object
) -> ClusterProvider:
    """The provider; `kind` holds kind-only options (the node image), passed on only to kind."""
    options: dict[str, object] = {k: v for k, v in kind.items() if v is not None} if name == "kind" else {}
    if workers is not None:
        options["workers"] = workers
    try:
        return providers.get(name, k8s_version=k8s_version, cluster_name=cluster_name, **options)
    except (ConfigError, ClusterError) as exc:
        raise click.UsageError(str(exc)) from exc


def _common(fn: click.decorators.FC) -> click.decorators.FC:
    fn = click.option(
        "--name",
        "cluster_name",
        envvar="DRAFARM_CLUSTER_NAME",
        default=None,
        help="Cluster name (default: drafarm).",
    )(fn)
    fn = click.option(
        "--k8s-version",
        envvar=versions.VERSION_ENV,
        default=None,
        help=f"Kubernetes version (default: {versions.DEFAULT.kubernetes}).",
    )(fn)
    fn = click.option(
        "--provider",
        "provider_name",
        default="local",
        show_default=True,
        type=click.Choice(["local", "kind"]),
        help="Cluster provider: local (processes on this host, one node) or kind (docker containers, many nodes).",
    )(fn)
    return fn


def _farm(ref: Path | None, rest_virtual: bool = False) -> FarmSource | None:
    """The farm named on the command line, loaded where it was typed, before anything starts."""
    if ref is None:
        if rest_virtual:
            raise click.BadParameter("needs --farm SPEC (the virtual nodes are its)", param_hint="--virtual-nodes")
        return None
    try:
        return open_farm(ref, rest_virtual=rest_virtual)
    except SpecError as exc:
        raise click.BadParameter(f"\n{exc}", param_hint="--farm") from exc


@click.group()
def cluster() -> None:
    """Real clusters from the pinned toolchain: up, down, status, kubeconfig."""


@cluster.command()
@_common
@click.option(
    "--farm",
    type=click.Path(path_type=Path),
    default=None,
    help="Farm spec (a path or an example name: small, mixed, large) to deploy once the cluster is up.",
)
@click.option(
    "--nodes",
    "workers",
    type=click.IntRange(0),
    envvar="DRAFARM_KIND_NODES",
    default=None,
    help="kind only: worker nodes besides the control plane (default: one per farm node with --farm, else 1).",
)
@click.option(
    "--image",
    envvar="DRAFARM_KIND_IMAGE",
    default=None,
    help="kind only: node image to use as is (e.g. kindest/node:v1.36.3 where a registry is reachable); "
    "default: drafarm's offline image, built on first use.",
)
@click.option(
    "--virtual-nodes",
    is_flag=True,
    help="The farm's nodes beyond the cluster's real ones become virtual nodes (kwok keeps them Ready, drafarm "
    "publishes their devices; nothing is prepared on them): `--farm large --virtual-nodes` gives 500 nodes.",
)
def up(
    provider_name: str,
    k8s_version: str | None,
    cluster_name: str | None,
    farm: Path | None,
    workers: int | None,
    image: str | None,
    virtual_nodes: bool,
) -> None:
    """Bring the cluster up to a Ready node (a no-op when it is running)."""
    source = _farm(farm, virtual_nodes)
    if workers is None and source is not None:
        workers = len(source.farm.nodes)  # kind: a worker per farm node unless --nodes caps it
    prov = _provider(provider_name, k8s_version, cluster_name, workers=workers, image=image)
    if virtual_nodes and not prov.virtual_nodes:
        raise click.BadParameter(f"the {prov.name} provider runs no virtual nodes (yet)", param_hint="--virtual-nodes")
    start = time.monotonic()
    with _err.status("starting") as spinner:

        def report(text: str) -> None:
            _err.log(text)
            spinner.update(text)

        try:
            st = prov.up(report)
            if source is not None:
                report(f"deploying farm {source.farm.name} ({source.path}): emulators and the DRA kubelet plugin")
                prov.deploy_farm(source, report)
                report("the kubelet registered the farm's DRA plugin")
        except ClusterError as exc:
            _err.print(f"cluster up failed: {exc}", highlight=False, markup=False, soft_wrap=True)
            sys.exit(1)
    _err.print(f"cluster {st.name!r} up in {time.monotonic() - start:.1f}s ({st.kubernetes_version})")
    click.echo(f"export KUBECONFIG={st.kubeconfig}")


@cluster.command()
@_common
@click.option("--force", is_flag=True, help="Take the cluster down even while test runs use it.")
def down(provider_name: str, k8s_version: str | None, cluster_name: str | None, force: bool) -> None:
    """Stop everything the cluster started and remove its state."""
    prov = _provider(provider_name, k8s_version, cluster_name)
    users = shared.live_users(prov, paths.state_root())
    if users and not force:
        raise click.ClickException(
            f"test processes {users} are using this cluster; wait for them, or use --force to stop it anyway"
        )
    start = time.monotonic()
    with _err.status("stopping") as spinner:

        def report(text: str) -> None:
            spinner.update(text)

        prov.down(report)
    _err.print(f"cluster down in {time.monotonic() - start:.1f}s")


@cluster.command()
@_common
def status(provider_name: str, k8s_version: str | None, cluster_name: str | None) -> None:
    """Show whether the cluster runs, and each component's process."""
    st = _provider(provider_name, k8s_version, cluster_name).status()
    table = Table(title=f"cluster {st.name} ({st.provider}): {'running' if st.running else 'not running'}")
    table.add_column("component")
    table.add_column("state")
    for comp, state in st.components.items():
        table.add_row(comp, state)
    Console().print(table)
    if st.detail:
        Console().print(f"node: {st.detail}")
    if not st.running:
        sys.exit(1)


@cluster.command()
@_common
def kubeconfig(provider_name: str, k8s_version: str | None, cluster_name: str | None) -> None:
    """Print the path of the running cluster's admin kubeconfig."""
    try:
        click.echo(str(_provider(provider_name, k8s_version, cluster_name).kubeconfig()))
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc


@cluster.command("load-image")
@_common
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load_image(provider_name: str, k8s_version: str | None, cluster_name: str | None, archive: Path) -> None:
    """Import an image archive (OCI or docker-archive tarball) into the cluster's nodes."""
    try:
        refs = _provider(provider_name, k8s_version, cluster_name).load_image(archive)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc
    for ref in refs:
        click.echo(ref)


@cluster.command()
@_common
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def logs(provider_name: str, k8s_version: str | None, cluster_name: str | None, dest: Path) -> None:
    """Copy every component's log (and the cluster state) into DEST."""
    for path in _provider(provider_name, k8s_version, cluster_name).collect_logs(dest):
        click.echo(str(path))


def _restart_help() -> str:
    targets = "; ".join(f"{name}: {', '.join(providers.restartable(name))}" for name in providers.names())
    return (
        f"Restart COMPONENT (stopped by its PID, started as `up` starts it) and wait until it serves again. "
        f"COMPONENT per provider: {targets}."
    )


@cluster.command(help=_restart_help())
@_common
@click.argument("component")
def restart(provider_name: str, k8s_version: str | None, cluster_name: str | None, component: str) -> None:
    prov = _provider(provider_name, k8s_version, cluster_name)
    if component not in prov.restartable:
        raise click.BadParameter(
            f"the {prov.name} provider restarts {', '.join(prov.restartable)}, not {component!r}",
            param_hint="COMPONENT",
        )
    start = time.monotonic()
    with _err.status(f"restarting {component}"):
        try:
            prov.restart(component)
        except ClusterError as exc:
            raise click.ClickException(str(exc)) from exc
    _err.print(f"{component} restarted in {time.monotonic() - start:.1f}s")
