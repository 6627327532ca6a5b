"""`drafarm plugin run` and `drafarm fault ...`: run a node's DRA plugin, inject faults into it."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from clusters import provider as providers
from clusters.provider import ClusterError
from fakedevices.dra_limits import MAX_DNS_SUBDOMAIN_LENGTH
from fakedevices.emulator.errors import RequestError
from fakedevices.farm import build_farm
from fakedevices.farmspec.schema import MAX_SEED
from fakedevices.model import Farm
from fakedevices.plugin import control_protocol as ops
from fakedevices.plugin.control_client import ControlError, PluginControl
from fakedevices.plugin.instance_lock import AlreadyRunning
from fakedevices.plugin.layout import (
    DYNAMIC_CDI_DIR,
    KUBELET_ROOT,
    control_socket_in,
    instance_id_problem,
    node_state_dir,
)
from fakedevices.plugin.orphans import DEFAULT_GRACE_S
from fakedevices.plugin.runner import PluginOptions, run_plugin, setup_logging
from fakedevices.plugin.startup_checks import StartupError
from fakedevices.remote.ops import CONTROL_PORT
from fakedevices.spec.problems import SpecError
from fakedevices.spec.reader import DNS_SUBDOMAIN
from harness.cli_farm import _load

_NODE_CONTROL_SOCKET = control_socket_in(node_state_dir("<node>"))


def _instance_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if (problem := instance_id_problem(value)) is not None:
        raise click.BadParameter(problem)
    return value


class FiniteFloatRange(click.FloatRange):
    """A float range that also refuses nan (which every range comparison lets through)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number; give one from {self.min:g} to {self.max:g}", param, ctx)
        return number


def _read_node_map(path: Path, farm: Farm) -> dict[str, str]:
    """{farm node: kube node} from lines `KUBE=FARM` (blank lines and `#` comments skipped)."""
    found: dict[str, str] = {}
    known = {n.name for n in farm.nodes}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        kube, sep, farm_node = (part.strip() for part in line.partition("="))
        if not sep or not kube or farm_node not in known:
            raise click.BadParameter(
                f"{path}:{number}: {line[:80]!r}: write KUBE=FARM with FARM a node of farm {farm.name!r}",
                param_hint="--node-map",
            )
        found[farm_node] = kube
    return found


@click.group()
def plugin() -> None:
    """The farm's DRA kubelet plugin."""


@plugin.command("run")
@click.option("--node", required=True, help="The node (from the farm spec) whose devices to serve.")
@click.option("--kube-node", help="The cluster's name for that node, when it differs from the farm's.")
@click.option(
    "--node-map",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Lines KUBE=FARM naming every farm node the cluster serves: network pools are published with those "
    "nodes (by the first of them) and reach no other.",
)
@click.option("--farm", "spec", required=True, help="Farm spec: a path or an example name.")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="Override the spec's seed.")
@click.option("--kubeconfig", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--kubelet-root", type=click.Path(path_type=Path), default=KUBELET_ROOT, show_default=True)
@click.option("--state-dir", type=click.Path(path_type=Path), help=f"Default: {node_state_dir('<node>')}.")
@click.option("--cdi-dir", type=click.Path(path_type=Path), default=DYNAMIC_CDI_DIR, show_default=True)
@click.option("--metrics-port", type=click.IntRange(0, 65535), help="Serve Prometheus metrics on 127.0.0.1:PORT.")
@click.option(
    "--camera-hosts",
    type=click.Choice(["loopback", "own-address"]),
    default="loopback",
    show_default=True,
    help="Where cameras listen: 127.0.0.1, or each camera's ipAddress (which must exist on the host).",
)
@click.option(
    "--network-devices",
    type=click.Choice(["in-process", "remote"]),
    default="in-process",
    show_default=True,
    help="Who serves network-placed devices (cameras): this plugin, or a device host per pool "
    "(python -m fakedevices.remote) that the plugin asks at each device's address.",
)
@click.option(
    "--network-key-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="With --network-devices remote: the pool key the device hosts were given.",
)
@click.option(
    "--network-control-port",
    type=click.IntRange(1, 65535),
    default=CONTROL_PORT,
    show_default=True,
    help="With --network-devices remote: the device hosts' host-control port.",
)
@click.option(
    "--counters-in-own-slice", type=click.Choice(["auto", "true", "false"]), default="auto", show_default=True
)
@click.option("--no-register", is_flag=True, help="Do not create the kubelet registration socket.")
@click.option("--no-publish", is_flag=True, help="Do not publish ResourceSlices.")
@click.option(
    "--orphan-grace",
    type=click.FloatRange(0.5, 86400.0),
    default=DEFAULT_GRACE_S,
    show_default=True,
    help="Seconds a prepared claim may be deleted (or allocated elsewhere) before the plugin unprepares it.",
)
@click.option(
    "--instance",
    default="",
    callback=_instance_id,
    help="Run beside another instance of NODE's plugin (a rolling upgrade: same farm, node and state dir): "
    "its kubelet sockets are named after ID (e.g. the pod's UID), and the two share the prepared claims.",
    metavar="ID",
)
@click.option(
    "--ready-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Keep this file present while the kubelet has this plugin registered (for a readiness probe).",
)
@click.option("--log-format", type=click.Choice(["json", "text"]), default="json", show_default=True)
def run(
    node: str,
    kube_node: str | None,
    node_map: Path | None,
    spec: str,
    seed: int | None,
    kubeconfig: Path | None,
    kubelet_root: Path,
    state_dir: Path | None,
    cdi_dir: Path,
    metrics_port: int | None,
    camera_hosts: str,
    network_devices: str,
    network_key_file: Path | None,
    network_control_port: int,
    counters_in_own_slice: str,
    no_register: bool,
    no_publish: bool,
    orphan_grace: float,
    instance: str,
    ready_file: Path | None,
    log_format: str,
) -> None:
    """Run NODE's plugin as a host process until SIGTERM/SIGINT."""
    farm = build_farm(_load(spec), seed)
    if node not in {n.name for n in farm.nodes}:
        names = ", ".join(n.name for n in farm.nodes[:8])
        raise click.BadParameter(f"{node!r} is not a node of farm {farm.name!r}; nodes: {names}", param_hint="--node")
    served = _read_node_map(node_map, farm) if node_map is not None else {}
    if kube_node:
        served[node] = kube_node
    if served:
        farm = farm.served_by(served)
        node = served.get(node, node)
    if network_devices == "remote" and network_key_file is None:
        raise click.BadParameter("--network-devices remote needs the pool key", param_hint="--network-key-file")
    setup_logging(log_format)
    options = PluginOptions(
        node=node,
        kubeconfig=kubeconfig,
        kubelet_root=kubelet_root,
        state_dir=state_dir or node_state_dir(node),
        cdi_dir=cdi_dir,
        metrics_port=metrics_port,
        camera_hosts=camera_hosts,
        network_devices=network_devices,
        network_key_file=network_key_file,
        network_control_port=network_control_port,
        counters_in_own_slice=counters_in_own_slice,
        register=not no_register,
        publish=not no_publish,
        orphan_grace_s=orphan_grace,
        instance=instance,
        ready_file=ready_file,
    )
    try:
        run_plugin(farm, options)
    except (AlreadyRunning, StartupError) as exc:
        click.echo(f"drafarm plugin run: {exc}", err=True)
        sys.exit(1)


@click.group()
@click.option("--node", help=f"Node whose plugin to talk to (its control socket is {_NODE_CONTROL_SOCKET}).")
@click.option("--control-socket", type=click.Path(path_type=Path), help="The plugin's control socket.")
@click.option(
    "--provider",
    "provider_name",
    default="local",
    show_default=True,
    help="For a --node with no control socket here: the provider whose deployed farm has it (a virtual node).",
)
@click.pass_context
def fault(ctx: click.Context, node: str | None, control_socket: Path | None, provider_name: str) -> None:
    """Inject faults into a running plugin: device health, failing or slow prepares, driver bugs, crashes.
    On a virtual node (no plugin) `status` and `set-health` work on its published slice (a device taint)."""
    if control_socket is None:
        if node is None:
            raise click.UsageError("give --node NAME or --control-socket PATH")
        if not DNS_SUBDOMAIN.match(node) or len(node) > MAX_DNS_SUBDOMAIN_LENGTH:
            raise click.BadParameter(
                f"{node[:80]!r} is not a node name (a lowercase DNS name such as drafarm-worker-0); "
                "give the node's name, or --control-socket PATH",
                param_hint="--node",
            )
        control_socket = control_socket_in(node_state_dir(node))
        if not control_socket.exists():
            virtual = _virtual_node_control(provider_name, node)
            if virtual is not None:
                ctx.obj = virtual
                return
    ctx.obj = PluginControl.at(control_socket)


def _virtual_node_control(provider_name: str, node: str) -> PluginControl | None:
    """The control of `node` when it is a virtual node of the farm the provider's running cluster has."""
    try:
        deployment = providers.get(provider_name).farm()
    except (ClusterError, SpecError):
        return None
    if deployment is None or not any(n.kube_node == node for n in deployment.virtual):
        return None
    return deployment.node(node).control


def _send(ctx: click.Context, build: Callable[[], ops.ControlRequest[Any]]) -> None:
    """Send the request to the node's plugin and show its answer (as JSON), or why it was refused."""
    control: PluginControl = ctx.obj
    try:
        request = build()
        answer = control.send(request)
    except (ControlError, RequestError, OSError) as exc:
        click.echo(f"drafarm fault: {exc}", err=True)
        sys.exit(1)
    click.echo(json.dumps(request.answer.write(answer), indent=2))


@fault.command("status")
@click.pass_context
def fault_status(ctx: click.Context) -> None:
    """Faults in force, device health and prepared claims."""
    _send(ctx, ops.Status)


@fault.command("set-health")
@click.argument("device")
@click.argument("health", type=click.Choice(ops.HEALTHS))
@click.option("--reason", default="", help="Shown by the emulator to the workload.")
@click.pass_context
def set_health(ctx: click.Context, device: str, health: str, reason: str) -> None:
    """Mark DEVICE (or the card behind it, and so all its partitions) HEALTH."""
    _send(ctx, lambda: ops.SetHealth(device, health, reason))


@fault.command("fail-prepares")
@click.option("--count", type=click.IntRange(0), default=1, show_default=True, help="Fail the next N prepares.")
@click.option("--permanent", is_flag=True, help="Fail every prepare until `clear`.")
@click.option("--message", default=ops.DEFAULT_FAILURE, show_default=True)
@click.option("--namespace", default="", help="Only claims in this namespace (default: every claim).")
@click.pass_context
def fail_prepares(ctx: click.Context, count: int, permanent: bool, message: str, namespace: str) -> None:
    """Make prepares fail (transient: the next N; permanent: all)."""
    _send(ctx, lambda: ops.FailPrepares(count, permanent, message, namespace))


@fault.command("delay-prepares")
@click.argument("seconds", type=FiniteFloatRange(0, ops.MAX_PREPARE_DELAY_S))
@click.option("--namespace", default="", help="Only claims in this namespace (default: every claim).")
@click.pass_context
def delay_prepares(ctx: click.Context, seconds: float, namespace: str) -> None:
    """Delay every prepare by SECONDS."""
    _send(ctx, lambda: ops.DelayPrepares(seconds, namespace))


@fault.command("driver-bug")
@click.argument("bug", type=click.Choice(ops.BUGS))
@click.option("--off", is_flag=True, help="Turn the bug off again.")
@click.pass_context
def driver_bug(ctx: click.Context, bug: str, off: bool) -> None:
    """Imitate a common driver bug, for checking that the conformance suite catches it."""
    _send(ctx, lambda: ops.DriverBug(bug, not off))


@fault.command("clear")
@click.pass_context
def clear(ctx: click.Context) -> None:
    """Remove every injected fault (device health is left as it is)."""
    _send(ctx, ops.Clear)


@fault.command("kill")
@click.pass_context
def kill(ctx: click.Context) -> None:
    """Make the plugin exit at once, like a crash."""
    _send(ctx, ops.Kill)
