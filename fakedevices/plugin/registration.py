"""The kubelet plugin-watcher handshake: GetInfo, then NotifyRegistrationStatus."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import grpc

from fakedevices.proto.stubs import pluginregistration_pb2 as pb
from fakedevices.proto.stubs import pluginregistration_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

# The kubelet picks the first entry it supports, in our order: newest first.
SUPPORTED_VERSIONS = ("v1.DRAPlugin", "v1beta1.DRAPlugin", "v1alpha1.DRAResourceHealth")


class RegistrationService(pb_grpc.RegistrationServicer):  # type: ignore[misc]
    def __init__(
        self, driver: str, endpoint: str, versions: Sequence[str] = SUPPORTED_VERSIONS, *, instance: str = ""
    ) -> None:
        self.driver = driver
        self.endpoint = endpoint
        self.instance = instance
        self.versions = tuple(versions)
        self.registered = threading.Event()
        self.last_error = ""

    def GetInfo(self, request: pb.InfoRequest, context: grpc.ServicerContext) -> pb.PluginInfo:
        return pb.PluginInfo(
            type="DRAPlugin", name=self.driver, endpoint=self.endpoint, supported_versions=list(self.versions)
        )

    def NotifyRegistrationStatus(
        self, request: pb.RegistrationStatus, context: grpc.ServicerContext
    ) -> pb.RegistrationStatusResponse:
        if request.plugin_registered:
            log.info(
                "kubelet registered driver %s%s", self.driver, f" (instance {self.instance})" if self.instance else ""
            )
            self.last_error = ""
            self.registered.set()
        else:
            self.last_error = request.error
            self.registered.clear()
            log.error("kubelet rejected driver %s: %s", self.driver, request.error)
        return pb.RegistrationStatusResponse()
