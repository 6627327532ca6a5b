"""The DRAPlugin gRPC service (v1 and v1beta1) and the DRAResourceHealth stream, over one socket."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc

from fakedevices.plugin.api import ClaimRef, DriverCore
from fakedevices.plugin.claims import base_request
from fakedevices.plugin.metrics import METRICS
from fakedevices.proto.stubs import (
    dra_v1_pb2,
    dra_v1_pb2_grpc,
    dra_v1beta1_pb2,
    dra_v1beta1_pb2_grpc,
    health_v1alpha1_pb2,
    health_v1alpha1_pb2_grpc,
)

log = logging.getLogger(__name__)


def _refs(request: Any) -> list[ClaimRef]:
    return [ClaimRef(c.namespace, c.uid, c.name) for c in request.claims]


_PREPARE_LATENCY = METRICS.latency.labels("prepare")
_UNPREPARE_LATENCY = METRICS.latency.labels("unprepare")
_PREPARE_ERRORS = METRICS.errors.labels("prepare")
_UNPREPARE_ERRORS = METRICS.errors.labels("unprepare")

HEALTH_STREAMS = 8
"""Health streams served at once. Each holds a thread for as long as it is open (the kubelet keeps one
open per plugin), on a pool of their own, so they never take a worker from prepares."""

HEALTH_RESEND_S = 10.0
"""A third of the kubelet's default health timeout: a report lost or late still leaves the device fresh."""


class _NodeService:
    """Shared by both wire versions; `pb` is the version's message module."""

    pb: Any
    with_share_id: bool

    def __init__(self, core: DriverCore) -> None:
        self.core = core

    def NodePrepareResources(self, request: Any, context: grpc.ServicerContext) -> Any:
        started = time.perf_counter()
        outcomes = self.core.prepare(_refs(request))
        response = self.pb.NodePrepareResourcesResponse()
        for uid, outcome in outcomes.items():
            entry = response.claims[uid]
            if outcome.error:
                entry.error = outcome.error
                _PREPARE_ERRORS.inc()
                continue
            for device in outcome.devices:
                wire = entry.devices.add(
                    request_names=[base_request(device.request)],
                    pool_name=device.pool,
                    device_name=device.device,
                    cdi_device_ids=[device.cdi_id],
                )
                if self.with_share_id and device.share_id:
                    wire.share_id = device.share_id
        _PREPARE_LATENCY.observe(time.perf_counter() - started)
        return response

    def NodeUnprepareResources(self, request: Any, context: grpc.ServicerContext) -> Any:
        started = time.perf_counter()
        errors = self.core.unprepare(_refs(request))
        response = self.pb.NodeUnprepareResourcesResponse()
        for uid, error in errors.items():
            response.claims[uid].error = error
            if error:
                _UNPREPARE_ERRORS.inc()
        _UNPREPARE_LATENCY.observe(time.perf_counter() - started)
        return response


class NodeServiceV1(_NodeService, dra_v1_pb2_grpc.DRAPluginServicer):  # type: ignore[misc]
    pb = dra_v1_pb2
    with_share_id = True


class NodeServiceV1beta1(_NodeService, dra_v1beta1_pb2_grpc.DRAPluginServicer):  # type: ignore[misc]
    pb = dra_v1beta1_pb2
    with_share_id = False


class HealthService(health_v1alpha1_pb2_grpc.DRAResourceHealthServicer):  # type: ignore[misc]
    """Sends the complete device list on connect, whenever any device's health changes, and every
    `resend_seconds` without a change: the kubelet reads a device whose last report is older than its
    health timeout (30 s unless the report says otherwise) as Unknown."""

    poll_seconds = 0.5
    resend_seconds = HEALTH_RESEND_S

    def __init__(self, core: DriverCore) -> None:
        self.core = core

    def NodeWatchResources(
        self, request: Any, context: grpc.ServicerContext
    ) -> Iterator[health_v1alpha1_pb2.NodeWatchResourcesResponse]:
        generation, reports = self.core.health_snapshot()
        yield self._message(reports)
        sent = time.monotonic()
        while context.is_active():
            changed = self.core.wait_health_change(generation, self.poll_seconds)
            if changed != generation or time.monotonic() - sent >= self.resend_seconds:
                generation, reports = self.core.health_snapshot()
                yield self._message(reports)
                sent = time.monotonic()

    @staticmethod
    def _message(reports: list[Any]) -> health_v1alpha1_pb2.NodeWatchResourcesResponse:
        pb = health_v1alpha1_pb2
        return pb.NodeWatchResourcesResponse(
            devices=[
                pb.DeviceHealth(
                    device=pb.DeviceIdentifier(pool_name=r.pool, device_name=r.device),
                    health=r.health,
                    last_updated_time=r.updated_at,
                    health_check_timeout_seconds=r.timeout_seconds,
                )
                for r in reports
            ]
        )


class _OnPool:
    """A method's behavior that grpc runs on `pool` instead of the server's own (`experimental_thread_pool`)."""

    def __init__(self, behavior: Callable[[Any, grpc.ServicerContext], Any], pool: futures.ThreadPoolExecutor) -> None:
        self._behavior = behavior
        self.experimental_thread_pool = pool

    def __call__(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._behavior(request, context)


class _HealthOnPool:
    def __init__(self, service: HealthService, pool: futures.ThreadPoolExecutor) -> None:
        self.NodeWatchResources = _OnPool(service.NodeWatchResources, pool)


def add_node_services(server: grpc.Server, core: DriverCore) -> futures.ThreadPoolExecutor:
    """Prepare and unprepare on the server's workers, health streams on a pool of their own: the pool,
    for the caller to shut down after the server stopped."""
    dra_v1_pb2_grpc.add_DRAPluginServicer_to_server(NodeServiceV1(core), server)
    dra_v1beta1_pb2_grpc.add_DRAPluginServicer_to_server(NodeServiceV1beta1(core), server)
    pool = futures.ThreadPoolExecutor(max_workers=HEALTH_STREAMS, thread_name_prefix="health")
    health_v1alpha1_pb2_grpc.add_DRAResourceHealthServicer_to_server(_HealthOnPool(HealthService(core), pool), server)
    return pool
