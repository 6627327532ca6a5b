"""gRPC servers on unix sockets: stale sockets replaced, owner-only permissions, removed on stop.

These are an instance's own kubelet sockets (named after its instance ID, which no other live instance
has: `instance_lock.py`), so a socket file found at start is a dead process's and is simply replaced.
"""

from __future__ import annotations

import os
from concurrent import futures
from pathlib import Path

import grpc

from fakedevices.plugin.switch_timing import GRPC_GRACE_S

# Prepares and unprepares at once: health streams have threads of their own (`node_service.py`), so this
# is as many as before, when the kubelet's stream held one of 6. More threads only fight over the GIL
# (plugin benchmark, 8 callers: 16 workers ~740 prepares/s, 4 to 6 workers ~850; 2 to 5 alike in CPU per
# prepare + unprepare, 1.2 ms, and 1 worker more, 1.4 ms).
MAX_WORKERS = 5


def serve_unix(path: Path, *, max_workers: int = MAX_WORKERS) -> tuple[grpc.Server, Path]:
    """A started-later gRPC server bound to `path` (not started: add services, then `start()`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=path.name))
    old = os.umask(0o077)
    try:
        server.add_insecure_port(f"unix://{path}")
    finally:
        os.umask(old)
    return server, path


def stop_unix(server: grpc.Server, path: Path, grace: float = GRPC_GRACE_S) -> None:
    """Remove the socket file (no new connections; for a registration socket, the kubelet deregisters),
    then stop, giving calls in progress `grace` seconds."""
    path.unlink(missing_ok=True)
    server.stop(grace).wait(grace + 1)
