"""gRPC servers on unix sockets: stale sockets replaced, owner-only permissions, removed on stop."""

from __future__ import annotations

import os
from concurrent import futures
from pathlib import Path

import grpc

# Room for the health stream (it holds a worker while open) and a few concurrent prepares. More threads
# only fight over the GIL (plugin benchmark, 8 callers: 16 workers ~740 prepares/s, 4 to 6 workers ~850).
MAX_WORKERS = 6


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


def stop_unix(server: grpc.Server, path: Path, grace: float = 1.0) -> None:
    server.stop(grace).wait(grace + 1)
    path.unlink(missing_ok=True)
