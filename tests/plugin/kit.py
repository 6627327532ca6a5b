"""Test kit for the plugin: a gRPC client that plays the kubelet, claim JSON as the API server returns
it, and a CDI applier that shows what a container would see."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from fakedevices.proto.stubs import (
    dra_v1_pb2,
    dra_v1_pb2_grpc,
    dra_v1beta1_pb2,
    dra_v1beta1_pb2_grpc,
    health_v1alpha1_pb2,
    health_v1alpha1_pb2_grpc,
    pluginregistration_pb2,
    pluginregistration_pb2_grpc,
)

DRIVER = "drafarm.dev"
NODE = "drafarm-worker-0"
API = "drafarm.dev/v1alpha1"


class FakeKubelet:
    """Speaks the kubelet's side of registration and the DRA node service over the real sockets."""

    def __init__(self, registration_socket: Path) -> None:
        self.registration_socket = registration_socket
        self.channels: list[grpc.Channel] = []

    def _channel(self, path: Path | str) -> grpc.Channel:
        channel = grpc.insecure_channel(f"unix://{path}")
        grpc.channel_ready_future(channel).result(timeout=10)
        self.channels.append(channel)
        return channel

    def register(self) -> pluginregistration_pb2.PluginInfo:
        stub = pluginregistration_pb2_grpc.RegistrationStub(self._channel(self.registration_socket))
        info = stub.GetInfo(pluginregistration_pb2.InfoRequest(), timeout=1)
        stub.NotifyRegistrationStatus(pluginregistration_pb2.RegistrationStatus(plugin_registered=True), timeout=5)
        self.endpoint = info.endpoint
        return info

    def v1(self) -> dra_v1_pb2_grpc.DRAPluginStub:
        return dra_v1_pb2_grpc.DRAPluginStub(self._channel(self.endpoint))

    def v1beta1(self) -> dra_v1beta1_pb2_grpc.DRAPluginStub:
        return dra_v1beta1_pb2_grpc.DRAPluginStub(self._channel(self.endpoint))

    def health(self) -> health_v1alpha1_pb2_grpc.DRAResourceHealthStub:
        return health_v1alpha1_pb2_grpc.DRAResourceHealthStub(self._channel(self.endpoint))

    def prepare(self, *claims: Claim, version: str = "v1") -> Any:
        pb = dra_v1_pb2 if version == "v1" else dra_v1beta1_pb2
        stub = self.v1() if version == "v1" else self.v1beta1()
        request = pb.NodePrepareResourcesRequest(
            claims=[pb.Claim(namespace=c.namespace, uid=c.uid, name=c.name) for c in claims]
        )
        return stub.NodePrepareResources(request, timeout=45)

    def unprepare(self, *claims: Claim) -> Any:
        request = dra_v1_pb2.NodeUnprepareResourcesRequest(
            claims=[dra_v1_pb2.Claim(namespace=c.namespace, uid=c.uid, name=c.name) for c in claims]
        )
        return self.v1().NodeUnprepareResources(request, timeout=45)

    def close(self) -> None:
        for channel in self.channels:
            channel.close()


@dataclass
class Claim:
    """A ResourceClaim as the API server returns it once the scheduler allocated it."""

    name: str
    results: list[dict[str, Any]]
    config: list[dict[str, Any]] = field(default_factory=list)
    namespace: str = "default"
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))

    def to_api(self) -> dict[str, Any]:
        return {
            "apiVersion": "resource.k8s.io/v1",
            "kind": "ResourceClaim",
            "metadata": {"name": self.name, "namespace": self.namespace, "uid": self.uid},
            "spec": {"devices": {"requests": [{"name": r["request"].split("/")[0]} for r in self.results]}},
            "status": {
                "allocation": {
                    "devices": {
                        "results": [{"driver": DRIVER, **r} for r in self.results],
                        "config": self.config,
                    }
                }
            },
        }


def result(request: str, device: str, pool: str = NODE, **extra: Any) -> dict[str, Any]:
    return {"request": request, "pool": pool, "device": device, **extra}


def opaque(parameters: dict[str, Any], requests: list[str] | None = None, source: str = "FromClaim") -> dict[str, Any]:
    entry: dict[str, Any] = {
        "source": source,
        "opaque": {"driver": DRIVER, "parameters": {"apiVersion": API, **parameters}},
    }
    if requests:
        entry["requests"] = requests
    return entry


class ClaimStore:
    """The claims the API server holds, by namespace and name (JSON, as `kubectl get -o json` shows)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, claim: Claim) -> Claim:
        self.objects[(claim.namespace, claim.name)] = claim.to_api()
        return claim

    def delete(self, claim: Claim) -> None:
        self.objects.pop((claim.namespace, claim.name), None)

    def get(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self.objects.get((namespace, name))


@dataclass
class ContainerView:
    """What a container gets from CDI devices: env, and mounts mapped back to host paths."""

    env: dict[str, str]
    mounts: dict[str, str]
    device_nodes: list[str]

    def host_env(self) -> dict[str, str]:
        """The env with every container path under a mount rewritten to its host path, so the
        in-container client can run on the host against the same sockets."""
        out = {}
        for key, value in self.env.items():
            for container_path, host_path in self.mounts.items():
                if value.startswith(container_path + "/"):
                    value = host_path + value[len(container_path) :]
            out[key] = value
        return out

    def client(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fakedevices.client", *args],
            env={"PATH": "/usr/bin:/bin", **self.host_env()},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def apply_cdi(cdi_dir: Path, cdi_ids: list[str]) -> ContainerView:
    """Resolve fully-qualified CDI IDs against the spec files, strictly, as a runtime would."""
    specs = {}
    for path in cdi_dir.glob("*.json"):
        spec = json.loads(path.read_text())
        assert set(spec) <= {"cdiVersion", "kind", "devices", "containerEdits"}, spec.keys()
        for device in spec["devices"]:
            specs[f"{spec['kind']}={device['name']}"] = device["containerEdits"]
    view = ContainerView({}, {}, [])
    for cdi_id in cdi_ids:
        edits = specs[cdi_id]
        assert set(edits) <= {"env", "deviceNodes", "mounts", "hooks"}, edits.keys()
        for item in edits.get("env", []):
            key, _, value = item.partition("=")
            view.env[key] = value
        for mount in edits.get("mounts", []):
            view.mounts[mount["containerPath"]] = mount["hostPath"]
        view.device_nodes += [node["path"] for node in edits.get("deviceNodes", [])]
    return view


def prepared_container(kubelet: FakeKubelet, claim: Claim, cdi_dir: Path) -> ContainerView:
    """Prepare a claim of one device as the kubelet does and apply its CDI edits: what its container sees."""
    [device] = kubelet.prepare(claim).claims[claim.uid].devices
    return apply_cdi(cdi_dir, list(device.cdi_device_ids))


@contextmanager
def watching_health(kubelet: FakeKubelet) -> Iterator[Any]:
    stream = kubelet.health().NodeWatchResources(health_v1alpha1_pb2.NodeWatchResourcesRequest())
    try:
        yield stream
    finally:
        stream.cancel()
