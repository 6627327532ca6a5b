"""The generated message and service modules, generated first if missing or stale."""

from __future__ import annotations

from fakedevices.proto.generate import generate

generate()

from fakedevices.proto.gen import (  # noqa: E402
    dra_v1_pb2,
    dra_v1_pb2_grpc,
    dra_v1beta1_pb2,
    dra_v1beta1_pb2_grpc,
    health_v1alpha1_pb2,
    health_v1alpha1_pb2_grpc,
    pluginregistration_pb2,
    pluginregistration_pb2_grpc,
)

__all__ = [
    "dra_v1_pb2",
    "dra_v1_pb2_grpc",
    "dra_v1beta1_pb2",
    "dra_v1beta1_pb2_grpc",
    "health_v1alpha1_pb2",
    "health_v1alpha1_pb2_grpc",
    "pluginregistration_pb2",
    "pluginregistration_pb2_grpc",
]
