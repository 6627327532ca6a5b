"""Running one node's plugin as a host process: wiring, structured logs, metrics, signals."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import start_http_server

from fakedevices.dra_limits import counters_separate
from fakedevices.model import Farm
from fakedevices.plugin.card_emulators import RemoteNetworkDevices
from fakedevices.plugin.claim_api import ClaimApi
from fakedevices.plugin.claim_cache import ClaimCache
from fakedevices.plugin.claim_watch import ClaimWatcher
from fakedevices.plugin.driver import NodeDriver
from fakedevices.plugin.faults import Faults
from fakedevices.plugin.instance_lock import InstanceLock
from fakedevices.plugin.inventory import NodeInventory
from fakedevices.plugin.kube import KubeSlices, make_client, node_facts
from fakedevices.plugin.layout import PluginLayout, control_socket_in
from fakedevices.plugin.metrics import METRICS
from fakedevices.plugin.orphans import DEFAULT_GRACE_S, OrphanCollector
from fakedevices.plugin.ready_file import ReadyFile
from fakedevices.plugin.server import PluginServer
from fakedevices.plugin.slice_builder import PoolPlacement
from fakedevices.plugin.slice_publisher import PublishedPool, SlicePublisher
from fakedevices.plugin.startup_checks import StartupError, check_reachable, checked_client
from fakedevices.remote.auth import NetworkKeyError, read_key_file
from fakedevices.remote.ops import CONTROL_PORT

log = logging.getLogger("drafarm.plugin")


@dataclass(frozen=True)
class PluginOptions:
    node: str
    kubeconfig: Path | None
    kubelet_root: Path
    state_dir: Path
    cdi_dir: Path
    metrics_port: int | None = None
    camera_hosts: str = "loopback"  # "loopback" or "own-address" (each network device, e.g. a camera, on its own)
    counters_in_own_slice: str = "auto"  # auto | true | false
    register: bool = True
    publish: bool = True
    orphan_grace_s: float | None = DEFAULT_GRACE_S
    """How long a prepared claim may be gone from the API server (or allocated elsewhere) before the plugin
    unprepares it itself; None: never."""
    instance: str = ""
    """This instance's ID, when it runs beside another instance of the node's plugin (an upgrade)."""
    network_devices: str = "in-process"
    """Who serves network-placed devices (cameras): "in-process" (this plugin, placed by `camera_hosts`) or
    "remote" (a device host per pool, `python -m fakedevices.remote`, asked over host control)."""
    network_key_file: Path | None = None
    """The pool key host control is signed with (required with "remote")."""
    network_control_port: int = CONTROL_PORT
    ready_file: Path | None = None
    """A file kept present while this instance is registered with the kubelet (a readiness probe's check)."""

    @property
    def control_socket(self) -> Path:
        return control_socket_in(self.state_dir)

    def layout(self, driver: str) -> PluginLayout:
        return PluginLayout(driver, self.state_dir, self.kubelet_root, self.cdi_dir, self.instance)


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging(fmt: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonLogFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpx2", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _node_facts(options: PluginOptions, client: Any) -> tuple[int | None, str | None]:
    """The node's kubelet minor and UID, waiting up to a minute for the node to register."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        facts = node_facts(client, options.node)
        if facts is not None:
            return facts
        time.sleep(1)  # poll: the node object appears once its kubelet registers
    log.warning("node %s did not appear in 60 s: slices get no owner, counters go in their own slices", options.node)
    return None, None


def _counters_separate(options: PluginOptions, minor: int | None) -> bool:
    if options.counters_in_own_slice != "auto":
        return options.counters_in_own_slice == "true"
    return counters_separate(minor)


def remote_network(options: PluginOptions) -> RemoteNetworkDevices | None:
    """How network-placed devices are reached, or `StartupError` naming the option to fix."""
    if options.network_devices != "remote":
        return None
    if options.network_key_file is None:
        raise StartupError("--network-devices remote needs --network-key-file PATH (the device hosts' pool key)")
    try:
        key = read_key_file(options.network_key_file)
    except NetworkKeyError as exc:
        raise StartupError(str(exc)) from exc
    return RemoteNetworkDevices(key, options.network_control_port)


def build_plugin(
    farm: Farm, options: PluginOptions, client: Any | None = None, instance_lock: InstanceLock | None = None
) -> PluginServer:
    inventory = NodeInventory(farm, options.node)
    client = client if client is not None else make_client(options.kubeconfig)
    faults = Faults()
    claims = ClaimApi(client.config)
    cache = ClaimCache(farm.driver, inventory.node.name, inventory.pools)
    driver = NodeDriver(
        inventory,
        claims,
        options.layout(farm.driver),
        faults=faults,
        own_addresses=options.camera_hosts == "own-address",
        remote_network=remote_network(options),
        cache=cache,
    )
    publisher = None
    if options.publish:
        minor, node_uid = _node_facts(options, client)
        placement = PoolPlacement(node_name=inventory.node.name, node_uid=node_uid)
        pools = [PublishedPool(inventory.node.name, inventory.node.inventory, placement)]
        for pool in inventory.pools.values():
            if pool.network is not None and inventory.publishes_network_pool(pool):
                pools.append(
                    PublishedPool(pool.name, pool.inventory, PoolPlacement(reachable_nodes=pool.network.nodes))
                )
        publisher = SlicePublisher(
            KubeSlices(client, farm.driver),
            farm.driver,
            pools,
            counters_separate=_counters_separate(options, minor),
            faults=faults,
        )
    return PluginServer(
        driver,
        publisher=publisher,
        watcher=ClaimWatcher(claims, cache),
        orphans=OrphanCollector(driver, cache, options.orphan_grace_s) if options.orphan_grace_s is not None else None,
        register=options.register,
        instance_lock=instance_lock,
    )


def run_plugin(farm: Farm, options: PluginOptions) -> None:
    """Serve until SIGTERM or SIGINT, then deregister and stop cleanly.

    The kubeconfig (and, when publishing, the API server) is checked before anything is created; a
    start that fails after that removes what it created in the state dir."""
    problems = options.layout(farm.driver).socket_path_problems()
    if problems:
        raise StartupError("; ".join(problems))
    remote_network(options)  # the key is readable, before anything is created
    client = checked_client(options.kubeconfig)
    if options.publish:
        check_reachable(client, options.node, options.kubeconfig)
    before = _entries(options.state_dir)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    # AlreadyRunning: this instance's ID (or no ID) is another plugin's, whose state dir is left alone
    instance_lock = InstanceLock(options.state_dir, options.instance)
    try:
        server = build_plugin(farm, options, client, instance_lock)
        if options.metrics_port is not None:
            start_http_server(options.metrics_port, addr="127.0.0.1", registry=METRICS.registry)
        server.start()
    except BaseException:
        instance_lock.release()
        _remove_new_entries(options.state_dir, before)
        raise
    log.info(
        "plugin ready: node=%s driver=%s instance=%s control=%s",
        options.node,
        farm.driver,
        options.instance or "-",
        options.control_socket,
    )
    ready = None
    if options.ready_file is not None:
        ready = ReadyFile(options.ready_file, server.registration.registered if options.register else None)
        ready.start()
    stopping.wait()
    log.info("stopping plugin for node %s", options.node)
    if ready is not None:
        ready.stop()
    server.stop()


def _entries(state_dir: Path) -> set[str] | None:
    """The state dir's entries before this start, or None when it does not exist yet."""
    try:
        return set(os.listdir(state_dir))
    except FileNotFoundError:
        return None


def _remove_new_entries(state_dir: Path, before: set[str] | None) -> None:
    """Remove what a failed start created: the whole state dir if it made it, else its new entries."""
    if before is None:
        shutil.rmtree(state_dir, ignore_errors=True)
        return
    now = _entries(state_dir) or set()
    for name in now - before:
        path = state_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
