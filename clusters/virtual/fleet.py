"""A fleet of virtual nodes on any cluster: its Node objects, their ResourceSlices (one pool per node,
built by the plugin's slice builder, owned by the Node), and the kwok process that keeps them Ready and
runs their pods. Hundreds of nodes come up in seconds: objects are created by a few threads over one
connection, and only the Ready count is waited for."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from clusters.polling import poll
from clusters.provider import ClusterError
from clusters.virtual.api import NODES, SLICES, JsonApi
from clusters.virtual.kwok import Kwok
from clusters.virtual.nodes import FLEET_LABEL, node_object, ready
from fakedevices.model import Node
from fakedevices.plugin.slice_builder import PoolPlacement, build_pool_slices

THREADS = 8
FLEET_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$")
Report = Callable[[str], None]


class VirtualFleet:
    def __init__(self, name: str, kubeconfig: Path, kwok_binary: Path, directory: Path) -> None:
        if not FLEET_NAME.fullmatch(name):
            raise ClusterError(f"virtual fleet name {name!r} is not a label value (lower-case DNS, at most 63)")
        self.name = name
        self.kubeconfig = kubeconfig
        self.directory = directory
        self.kwok = Kwok(kwok_binary, kubeconfig, name, directory)
        self.selector = f"{FLEET_LABEL}={name}"

    def up(
        self,
        driver: str,
        nodes: Sequence[Node],
        *,
        counters_separate: bool,
        report: Report | None = None,
        timeout: float | None = None,
    ) -> None:
        """Create the nodes and their slices, start kwok, and wait until every node is Ready."""
        say = report or (lambda _text: None)
        api = JsonApi(self.kubeconfig)
        try:
            started = time.monotonic()
            self.kwok.start()
            say(f"virtual nodes: creating {len(nodes)} Node objects (kwok log: {self.kwok.log})")
            with ThreadPoolExecutor(THREADS) as pool:
                created = list(pool.map(lambda n: api.create(NODES, node_object(n, self.name)), nodes))
                uids = {obj["metadata"]["name"]: obj["metadata"]["uid"] for obj in created}
                slices = [s for n in nodes for s in self._slices(driver, n, uids[n.name], counters_separate)]
                say(f"virtual nodes: publishing {len(slices)} ResourceSlices")
                list(pool.map(lambda s: api.create(SLICES, s), slices))
            self._wait_ready(api, len(nodes), timeout or 60.0 + 0.1 * len(nodes), say)
            say(f"virtual nodes: {len(nodes)} Ready in {time.monotonic() - started:.1f}s")
        finally:
            api.close()

    def down(self) -> None:
        """Remove the fleet's slices and nodes (their pods go with them), stop kwok, forget the fleet."""
        api = JsonApi(self.kubeconfig)
        try:
            api.delete_all(SLICES, self.selector)
            api.delete_all(NODES, self.selector)
        finally:
            api.close()
            self.kwok.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def stop_kwok(self) -> None:
        """Only the process (for a cluster going down with its API server)."""
        self.kwok.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def nodes(self) -> list[dict[str, Any]]:
        api = JsonApi(self.kubeconfig)
        try:
            return api.items(NODES, self.selector)
        finally:
            api.close()

    def _slices(self, driver: str, node: Node, uid: str, counters_separate: bool) -> list[dict[str, Any]]:
        placement = PoolPlacement(node_name=node.name, node_uid=uid)
        built = build_pool_slices(driver, node.name, node.inventory, placement, 1, counters_separate=counters_separate)
        for obj in built:
            obj["metadata"]["labels"][FLEET_LABEL] = self.name
        return built

    def _wait_ready(self, api: JsonApi, count: int, timeout: float, say: Report) -> None:
        shown = -1

        def ready_nodes() -> int:
            nonlocal shown
            current = sum(1 for obj in api.items(NODES, self.selector) if ready(obj))
            if current < count and self.kwok.pid() is None:
                raise ClusterError(f"kwok exited; its log ({self.kwok.log}) ends:\n{self.kwok.log_tail()}")
            if current < count and current != shown:
                say(f"virtual nodes: {current}/{count} Ready")
                shown = current
            return current

        current = poll(ready_nodes, timeout, 0.5, done=lambda n: n >= count)
        if current < count:
            raise ClusterError(
                f"{current} of {count} virtual nodes Ready after {timeout:.0f}s; kwok's log "
                f"({self.kwok.log}) ends:\n{self.kwok.log_tail()}"
            )
