"""What a container gets for one prepared device, the same for every kind: the session's env vars, and
for a session served on a unix socket that socket's directory mounted and a device node; plus facts the
kind adds about the device, as `DRAFARM_<KIND>_<ID>_<KEY>` (its request's name among them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakedevices.kinds.base import ContainerEdits, DeviceAccess, DeviceNode, Mount
from fakedevices.kinds.env_names import device_id, device_var

CONTAINER_SOCKET_DIR = "/var/run/drafarm"


def session_edits(kind: str, access: DeviceAccess[Any], facts: Mapping[str, str]) -> ContainerEdits:
    name = access.device.name
    endpoint = access.endpoint
    extra = {device_var(kind, name, key): value for key, value in {**facts, "REQUEST": access.request}.items()}
    if endpoint.socket_path is None:
        env = endpoint.container_env(device_id=device_id(kind, name))
        return ContainerEdits(env=_lines({**env, **extra}))
    # The session's directory, not its socket file, is mounted: a restarted emulator re-creates the
    # socket in place and running containers still reach it.
    container_dir = f"{CONTAINER_SOCKET_DIR}/{name}"
    socket = f"{container_dir}/{endpoint.socket_path.name}"
    env = endpoint.container_env(container_path=socket, device_id=device_id(kind, name))
    return ContainerEdits(
        env=_lines({**env, **extra}),
        device_nodes=(DeviceNode(f"/dev/drafarm/{name}", "/dev/null"),),
        mounts=(Mount(str(endpoint.socket_path.parent), container_dir),),
    )


def _lines(env: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(f"{key}={value}" for key, value in sorted(env.items()))
