"""Starting components as background processes with PID files, and stopping them by PID."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from clusters import pids
from clusters.local.layout import Layout
from clusters.pids import alive as alive


def start(layout: Layout, component: str, argv: list[str], env: Mapping[str, str] | None = None) -> int:
    """Start `argv` in its own session, output appended to the component's log; return its PID."""
    layout.logs.mkdir(parents=True, exist_ok=True)
    layout.pids.mkdir(parents=True, exist_ok=True)
    log = layout.log(component).open("ab")
    log.write(f"\n==== drafarm: starting {component}: {' '.join(argv)}\n".encode())
    log.flush()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(env) if env is not None else None,
            cwd=layout.root,
        )
    finally:
        log.close()
    layout.pidfile(component).write_text(f"{proc.pid}\n")
    return proc.pid


def read_pid(layout: Layout, component: str) -> int | None:
    try:
        return int(layout.pidfile(component).read_text().strip())
    except (OSError, ValueError):
        return None


def stop(layout: Layout, component: str, timeout: float = 10.0) -> None:
    """Stop the component's process by PID; processes it started (containerd's shims) keep running."""
    pid = read_pid(layout, component)
    if pid is not None and alive(pid) and _is_ours(pid, layout):
        pids.stop(pid, timeout)
    layout.pidfile(component).unlink(missing_ok=True)


def _is_ours(pid: int, layout: Layout) -> bool:
    """Guard against PID reuse: the process's command line must mention this cluster's directory."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return str(layout.root) in cmdline


def processes_mentioning(needle: str) -> list[int]:
    """PIDs whose command line contains `needle` (used to find a cluster's containerd shims)."""
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found
