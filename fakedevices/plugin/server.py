"""One node's plugin process: the driver, its gRPC sockets, the control API and the slice publisher.

Another instance of the node's plugin may serve the same state dir (a rolling upgrade, `plugin run
--instance`): the newest takes the emulators' and the control socket at its start, and an instance that
stops while another runs deregisters, answers the kubelet a little longer, and hands its sockets over
before it closes them (`PeerWatch`; how long each step may take: `switch_timing`). Neither withdraws
the node's ResourceSlices when it stops; no instance ever does.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import TypeVar

import grpc

from fakedevices.plugin.claim_watch import ClaimWatcher
from fakedevices.plugin.control_server import ControlServer
from fakedevices.plugin.driver import NodeDriver
from fakedevices.plugin.instance_lock import InstanceLock
from fakedevices.plugin.layout import instance_of_lock, registration_socket
from fakedevices.plugin.node_service import add_node_services
from fakedevices.plugin.orphans import OrphanCollector
from fakedevices.plugin.peer_watch import PeerWatch
from fakedevices.plugin.registration import RegistrationService
from fakedevices.plugin.slice_publisher import SlicePublisher
from fakedevices.plugin.sockets import serve_unix, stop_unix
from fakedevices.plugin.switch_timing import CONNECTIONS_S, DRAIN_S, HANDOVER_S
from fakedevices.proto.stubs import pluginregistration_pb2_grpc

log = logging.getLogger(__name__)


class PluginServer:
    def __init__(
        self,
        driver: NodeDriver,
        *,
        publisher: SlicePublisher | None = None,
        watcher: ClaimWatcher | None = None,
        orphans: OrphanCollector | None = None,
        register: bool = True,
        instance_lock: InstanceLock | None = None,
        drain_s: float = DRAIN_S,
    ) -> None:
        self.driver = driver
        self.layout = driver.layout
        self.publisher = publisher
        self.watcher = watcher
        self.orphans = orphans
        self.register = register
        self.instance_lock = instance_lock
        self.drain_s = drain_s
        self.control = ControlServer(self.layout.control_socket, driver)
        self.registration = RegistrationService(
            self.layout.driver, str(self.layout.service_socket), instance=self.layout.instance
        )
        self.peers = PeerWatch(
            self.layout.state_dir,
            self.layout.lock_file,
            take_over=self.take_over,
            sync=driver.sync_with_peers,
            taken=self._sockets_taken,
        )
        self._service: tuple[grpc.Server, Path] | None = None
        self._registration: tuple[grpc.Server, Path] | None = None
        self._health_pool: futures.ThreadPoolExecutor | None = None

    def start(self) -> None:
        if self.watcher is not None:
            self.watcher.start()
        self.driver.start()
        service, service_path = serve_unix(self.layout.service_socket)
        self._health_pool = add_node_services(service, self.driver)
        self._service = self._start(service, service_path)
        self.control.start()
        self.peers.start()
        if self.publisher is not None:
            self.publisher.start()
        if self.orphans is not None:
            self.orphans.start()
        if self.register:
            registration, registration_path = serve_unix(self.layout.registration_socket, max_workers=2)
            pluginregistration_pb2_grpc.add_RegistrationServicer_to_server(self.registration, registration)
            self._registration = self._start(registration, registration_path)
        log.info("plugin for node %s serving on %s", self.driver.inventory.node.name, service_path)

    @staticmethod
    def _start(server: grpc.Server, path: Path) -> tuple[grpc.Server, Path]:
        server.start()
        os.chmod(path, 0o600)
        return server, path

    def take_over(self) -> None:
        """Another instance serving the state dir left: serve what it served."""
        self.driver.take_over()
        with self.driver.lock.exclusive():  # not while the one that left removes its own socket file
            self.control.reclaim()

    def stop(self) -> None:
        """Deregister first (remove the registration socket), answer the kubelet while it may still call
        (`_drain`), then stop serving it; hand the sockets over to another instance if one runs, and let
        the containers' connections still open here end; then stop the emulators. The node's
        ResourceSlices stay."""
        if self._registration is not None:
            stop_unix(*self._registration)
            self._registration = None
            self._drain()
        if self._service is not None:
            stop_unix(*self._service)
            self._service = None
        if self._health_pool is not None:
            self._health_pool.shutdown(wait=False)
            self._health_pool = None
        if self.orphans is not None:
            self.orphans.stop()
        if self.publisher is not None:
            self.publisher.stop()
        self.peers.stop()
        if self._hand_over():
            self._let_connections_end()
        with self.driver.lock.exclusive():  # not while another instance takes the control socket
            self.control.stop()
        if self.watcher is not None:
            self.watcher.stop()
        self.driver.stop()
        if self.instance_lock is not None:
            self.instance_lock.release()

    def _drain(self) -> None:
        """Keep the DRA socket served for `drain_s` after deregistering, while another instance is
        registered: the kubelet may still send calls here until it notices (a plugin without another
        instance has no one to switch to, and stops at once)."""
        if self.drain_s > 0 and self._another_registered():
            log.info("deregistered; answering the kubelet for %.1f s more while it switches instances", self.drain_s)
            time.sleep(self.drain_s)

    def _another_registered(self) -> bool:
        """Whether another instance serving the state dir has its registration socket in place."""
        return any(
            registration_socket(self.layout.kubelet_root, self.layout.driver, instance_of_lock(lock)).exists()
            for lock in self.peers.peers()
        )

    def _hand_over(self) -> bool:
        """Let the other instances see this one gone, and wait until one of them has bound every socket
        this one still serves (containers keep finding their devices), at most `HANDOVER_S`; whether one
        did."""
        if self.instance_lock is None or not self.peers.peers():
            return False
        self.instance_lock.release()
        held = _wait_while(self._sockets_held, HANDOVER_S)
        if held:
            log.warning(
                "no other plugin instance took over %d socket(s) in %.0f s; closing them", len(held), HANDOVER_S
            )
            return False
        log.info("handed the emulators' sockets over to another plugin instance")
        return True

    def _let_connections_end(self) -> None:
        """Containers connect to the other instance now: let the connections they still have open here
        end by themselves, for at most `CONNECTIONS_S`."""
        if still := _wait_while(self.driver.open_connections, CONNECTIONS_S):
            log.info("closing %d container connection(s) still open after %.0f s", still, CONNECTIONS_S)

    def _sockets_taken(self) -> bool:
        """Whether another instance bound sockets of this one (the whole-device and control sockets, which
        every instance binds at its start)."""
        return self.driver.device_sockets_taken() or not self.control.holds_socket

    def _sockets_held(self) -> list[Path]:
        held = self.driver.sockets_held()
        return [*held, self.control.path] if self.control.holds_socket else held


T = TypeVar("T")


def _wait_while(what: Callable[[], T], limit_s: float) -> T:
    """Look at `what` until it is falsy, for at most `limit_s`; what it was last."""
    deadline = time.monotonic() + limit_s
    while (seen := what()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return seen
