"""Connects to unix sockets in a tight loop, as containers starting during a plugin switch would, and counts
what fails: a socket file missing, a connection refused, or (one in `PING_EVERY`) a ping not answered.

Run as a script (stdlib only, so it never waits on the test process): the paths to probe are the
arguments and `add <path>` lines on stdin; it prints `ready` once it has been round every path, and at
the end of stdin one JSON line: `{"attempts": n, "failures": {reason: count}, "examples": [...]}`.
`SocketProber` runs it for a test.
"""

from __future__ import annotations

import errno
import json
import os
import select
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

TIMEOUT_S = 5.0
PING_EVERY = 8
"""One connect in so many also asks for an answer; the others only connect (many more connects a second)."""
EXAMPLES = 20


def probe(path: str, ping: bool) -> str | None:
    """None when the socket accepted the connection (and, with `ping`, answered a ping), else why not."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT_S)
    try:
        sock.connect(path)
        if not ping:
            return None
        sock.sendall(b'{"op": "ping"}\n')
        answer = sock.makefile("rb").readline()
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    finally:
        sock.close()
    return None if answer.endswith(b"\n") else "dropped"


def _commands(stdin: int) -> tuple[list[str], bool]:
    """The paths added on stdin since the last look, and whether stdin ended."""
    added: list[str] = []
    while select.select([stdin], [], [], 0)[0]:
        data = os.read(stdin, 65536)
        if not data:
            return added, True
        added += [line[4:] for line in data.decode().splitlines() if line.startswith("add ")]
    return added, False


def main(paths: list[str]) -> None:
    failures: Counter[str] = Counter()
    examples: list[str] = []
    attempts = 0
    announced = False
    ended = False
    while not ended:
        added, ended = _commands(sys.stdin.fileno())
        paths += added
        for path in paths:
            attempts += 1
            reason = probe(path, attempts % PING_EVERY == 0)
            if reason is not None:
                failures[reason] += 1
                if len(examples) < EXAMPLES:
                    examples.append(f"{reason}: {path}")
        if not announced:
            announced = True
            sys.stdout.write("ready\n")
            sys.stdout.flush()
    sys.stdout.write(json.dumps({"attempts": attempts, "failures": dict(failures), "examples": examples}) + "\n")


class SocketProber:
    """The prober as a subprocess of a test."""

    def __init__(self, paths: list[Path]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-S", __file__, *map(str, paths)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()
        assert ready == "ready\n", f"the prober did not start: {ready!r}"

    def add(self, paths: list[Path]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(f"add {p}\n" for p in paths))
        self.proc.stdin.flush()

    def finish(self) -> dict[str, Any]:
        """Stop probing; what it saw."""
        out, _ = self.proc.communicate(timeout=60)
        result: dict[str, Any] = json.loads(out.splitlines()[-1])
        return result

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


if __name__ == "__main__":
    main(sys.argv[1:])
