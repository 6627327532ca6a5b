"""One node's plugin process: the driver, its gRPC sockets, the control API and the slice publisher."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import grpc

from fakedevices.plugin.claim_watch import ClaimWatcher
from fakedevices.plugin.control_server import ControlServer
from fakedevices.plugin.driver import NodeDriver
from fakedevices.plugin.node_service import add_node_services
from fakedevices.plugin.orphans import OrphanCollector
from fakedevices.plugin.registration import RegistrationService
from fakedevices.plugin.slice_publisher import SlicePublisher
from fakedevices.plugin.sockets import serve_unix, stop_unix
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
    ) -> None:
        self.driver = driver
        self.layout = driver.layout
        self.publisher = publisher
        self.watcher = watcher
        self.orphans = orphans
        self.register = register
        self.control = ControlServer(self.layout.control_socket, driver)
        self.registration = RegistrationService(self.layout.driver, str(self.layout.service_socket))
        self._servers: list[tuple[grpc.Server, Path]] = []

    def start(self) -> None:
        if self.watcher is not None:
            self.watcher.start()
        self.driver.start()
        service, service_path = serve_unix(self.layout.service_socket)
        add_node_services(service, self.driver)
        self._start(service, service_path)
        self.control.start()
        if self.publisher is not None:
            self.publisher.start()
        if self.orphans is not None:
            self.orphans.start()
        if self.register:
            registration, registration_path = serve_unix(self.layout.registration_socket, max_workers=2)
            pluginregistration_pb2_grpc.add_RegistrationServicer_to_server(self.registration, registration)
            self._start(registration, registration_path)
        log.info("plugin for node %s serving on %s", self.driver.inventory.node.name, service_path)

    def _start(self, server: grpc.Server, path: Path) -> None:
        server.start()
        os.chmod(path, 0o600)
        self._servers.append((server, path))

    def stop(self) -> None:
        """Deregister first (remove the registration socket), then stop serving and the emulators."""
        for server, path in reversed(self._servers):
            stop_unix(server, path)
        self._servers.clear()
        if self.orphans is not None:
            self.orphans.stop()
        if self.publisher is not None:
            self.publisher.stop()
        self.control.stop()
        if self.watcher is not None:
            self.watcher.stop()
        self.driver.stop()
