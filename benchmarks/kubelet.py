"""The kubelet's side of the plugin's sockets: the registration handshake, then DRA v1 calls."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc

from benchmarks.claims import ClaimRef
from clusters.polling import poll
from fakedevices.proto.stubs import (
    dra_v1_pb2,
    dra_v1_pb2_grpc,
    pluginregistration_pb2,
    pluginregistration_pb2_grpc,
)

CALL_TIMEOUT = 30.0


class PrepareFailed(RuntimeError):
    pass


def wait_for_socket(path: Path, timeout: float) -> None:
    """Until a gRPC server answers on `path` (the plugin creates its sockets when it is ready)."""
    deadline = time.monotonic() + timeout
    # The socket appears once the plugin has built its farm and started.
    if not poll(path.exists, timeout, 0.02):
        raise TimeoutError(f"no socket at {path} after {timeout:g} s: the plugin did not start")
    channel = grpc.insecure_channel(f"unix://{path}")
    try:
        grpc.channel_ready_future(channel).result(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        channel.close()


class BenchKubelet:
    """One registration handshake, then a DRA v1 stub shared by all callers (as the kubelet does)."""

    def __init__(self, registration_socket: Path) -> None:
        self.registration_socket = registration_socket
        self._channels: list[grpc.Channel] = []
        self.endpoint = ""
        self.versions: list[str] = []

    def _channel(self, path: str) -> grpc.Channel:
        channel = grpc.insecure_channel(f"unix://{path}")
        grpc.channel_ready_future(channel).result(timeout=10)
        self._channels.append(channel)
        return channel

    def register(self) -> None:
        stub = pluginregistration_pb2_grpc.RegistrationStub(self._channel(str(self.registration_socket)))
        info = stub.GetInfo(pluginregistration_pb2.InfoRequest(), timeout=5)
        stub.NotifyRegistrationStatus(pluginregistration_pb2.RegistrationStatus(plugin_registered=True), timeout=5)
        self.endpoint = info.endpoint
        self.versions = list(info.supported_versions)
        self.stub = dra_v1_pb2_grpc.DRAPluginStub(self._channel(self.endpoint))

    def connect(self) -> None:
        """Ask the registration socket for the DRA endpoint and use it, without registering: for a
        plugin the real kubelet already registered."""
        stub = pluginregistration_pb2_grpc.RegistrationStub(self._channel(str(self.registration_socket)))
        info = stub.GetInfo(pluginregistration_pb2.InfoRequest(), timeout=5)
        self.endpoint = info.endpoint
        self.versions = list(info.supported_versions)
        self.stub = dra_v1_pb2_grpc.DRAPluginStub(self._channel(self.endpoint))

    def prepare(self, claims: Sequence[ClaimRef]) -> Any:
        request = dra_v1_pb2.NodePrepareResourcesRequest(
            claims=[dra_v1_pb2.Claim(namespace=c.namespace, uid=c.uid, name=c.name) for c in claims]
        )
        response = self.stub.NodePrepareResources(request, timeout=CALL_TIMEOUT)
        for claim in claims:
            entry = response.claims[claim.uid]
            if entry.error or not entry.devices:
                raise PrepareFailed(f"prepare {claim.name}: {entry.error or 'no devices in the answer'}")
        return response

    def unprepare(self, claims: Sequence[ClaimRef]) -> Any:
        request = dra_v1_pb2.NodeUnprepareResourcesRequest(
            claims=[dra_v1_pb2.Claim(namespace=c.namespace, uid=c.uid, name=c.name) for c in claims]
        )
        response = self.stub.NodeUnprepareResources(request, timeout=CALL_TIMEOUT)
        for claim in claims:
            error = response.claims[claim.uid].error
            if error:
                raise PrepareFailed(f"unprepare {claim.name}: {error}")
        return response

    def close(self) -> None:
        for channel in self._channels:
            channel.close()
        self._channels.clear()

    def __enter__(self) -> BenchKubelet:
        self.register()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
