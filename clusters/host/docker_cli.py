"""Running the `docker` client against one daemon endpoint."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class DockerError(RuntimeError):
    """A docker operation failed; the message says what ran, what it printed, and the likely fix."""


@dataclass(frozen=True)
class Endpoint:
    """A docker daemon: its `DOCKER_HOST` value, and whether drafarm started it (and may stop it)."""

    host: str
    ours: bool

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env["DOCKER_HOST"] = self.host
        env.pop("DOCKER_CONTEXT", None)
        return env


def docker_binary() -> str:
    found = shutil.which("docker", path=os.environ.get("PATH", "") + ":" + SYSTEM_PATH)
    if found is None:
        raise DockerError("the `docker` client is missing; install the Debian package `docker.io` (`make setup` does)")
    return found


def run(
    endpoint: Endpoint, *args: str, timeout: float = 120.0, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `docker ARGS` against `endpoint` (feeding it `stdin`); raise DockerError on failure when `check`."""
    argv = [docker_binary(), *args]
    proc = subprocess.run(
        argv,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=endpoint.env(),
    )
    if check and proc.returncode != 0:
        raise DockerError(
            f"`docker {' '.join(args)}` failed (exit {proc.returncode}, DOCKER_HOST={endpoint.host}): "
            f"{(proc.stderr or proc.stdout).strip()[-2000:]}"
        )
    return proc


def lines(endpoint: Endpoint, *args: str, timeout: float = 120.0) -> list[str]:
    return [line for line in run(endpoint, *args, timeout=timeout).stdout.splitlines() if line.strip()]
