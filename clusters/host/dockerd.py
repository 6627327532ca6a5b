"""A docker daemon for kind clusters and camera containers: the user's when one answers, else drafarm's own.

drafarm's own dockerd keeps to itself: its data root (`<cache>/docker/data`), run directory (socket,
pidfile, exec root: `/run/drafarm-dockerd`), and bridge (`drafarm-dkr0`, 198.18.128.1/24; networks
without a subnet come from 198.18.144.0/20 in /24s). It runs with `--iptables=false --ip-forward=false`:
it adds no iptables rules and leaves the FORWARD policy and forwarding sysctls alone, so processes
already networking on this host (a local cluster's pods) are not disturbed. Published ports go through
docker's userland proxy. Where the capability bounding set lacks a capability (see `runc_wrapper`),
dockerd's default runtime is the wrapper. It is stopped (by PID) only when drafarm started it and no
container is left on it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from clusters import paths, pids
from clusters.host import runc_wrapper
from clusters.host.docker_cli import SYSTEM_PATH, DockerError, Endpoint, lines
from clusters.log_tail import log_tail
from clusters.polling import poll

RUN_DIR_ENV = "DRAFARM_DOCKERD_RUN_DIR"
DEFAULT_RUN_DIR = Path("/run/drafarm-dockerd")
DEFAULT_SOCKET = Path("/var/run/docker.sock")
BRIDGE = "drafarm-dkr0"
BRIDGE_ADDRESS = "198.18.128.1/24"
ADDRESS_POOL = "198.18.144.0/20"
ADDRESS_POOL_SIZE = 24
WRAPPER_RUNTIME = "drafarm-runc"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0

Reporter = Callable[[str], None]


@dataclass(frozen=True)
class DaemonLayout:
    run_dir: Path
    state_dir: Path

    @property
    def socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def pidfile(self) -> Path:
        return self.run_dir / "dockerd.pid"

    @property
    def exec_root(self) -> Path:
        return self.run_dir / "exec"

    @property
    def data_root(self) -> Path:
        return self.state_dir / "data"

    @property
    def log(self) -> Path:
        return self.state_dir / "dockerd.log"

    @property
    def config(self) -> Path:
        return self.state_dir / "daemon.json"

    @property
    def wrapper(self) -> Path:
        return self.state_dir / "bin" / WRAPPER_RUNTIME

    @property
    def lock(self) -> Path:
        return self.state_dir / "dockerd.lock"

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(f"unix://{self.socket}", ours=True)


def layout() -> DaemonLayout:
    run_dir = Path(os.environ.get(RUN_DIR_ENV) or DEFAULT_RUN_DIR)
    return DaemonLayout(run_dir=run_dir, state_dir=paths.cache_root() / "docker")


def ping(sock: Path, timeout: float = 2.0) -> bool:
    """Whether a docker daemon answers `GET /_ping` on the unix socket `sock`."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(sock))
            conn.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            head = conn.recv(64)
    except OSError:
        return False
    return head.startswith(b"HTTP/") and b" 200 " in head.split(b"\r\n", 1)[0]


def find() -> Endpoint | None:
    """The daemon to use without starting one: `$DOCKER_HOST`, drafarm's own, or the default socket."""
    user = os.environ.get("DOCKER_HOST")
    if user:
        return Endpoint(user, ours=False)
    own = layout()
    if ping(own.socket):
        return own.endpoint
    if ping(DEFAULT_SOCKET):
        return Endpoint(f"unix://{DEFAULT_SOCKET}", ours=False)
    return None


def ensure(report: Reporter | None = None) -> Endpoint:
    """A daemon that answers: the one found, else drafarm's own, started now."""
    found = find()
    if found is not None:
        return found
    lay = layout()
    lay.state_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lay.lock)):
        found = find()
        if found is not None:
            return found
        return _start(lay, report or (lambda _text: None))


def argv(lay: DaemonLayout, dockerd: str, wrapper: Path | None) -> list[str]:
    args = [
        dockerd,
        f"--config-file={lay.config}",
        f"--data-root={lay.data_root}",
        f"--exec-root={lay.exec_root}",
        f"--pidfile={lay.pidfile}",
        f"--host=unix://{lay.socket}",
        f"--bridge={BRIDGE}",
        f"--default-address-pool=base={ADDRESS_POOL},size={ADDRESS_POOL_SIZE}",
        "--iptables=false",
        "--ip6tables=false",
        "--ip-forward=false",
        "--ip-masq=false",
    ]
    if wrapper is not None:
        args += [f"--add-runtime={WRAPPER_RUNTIME}={wrapper}", f"--default-runtime={WRAPPER_RUNTIME}"]
    return args


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    ip = shutil.which("ip", path=SYSTEM_PATH) or "ip"
    proc = subprocess.run([ip, *args], capture_output=True, text=True, timeout=30)
    if check and proc.returncode != 0:
        raise DockerError(f"`ip {' '.join(args)}` failed: {proc.stderr.strip()}")
    return proc


def _bridge_exists() -> bool:
    return _ip("link", "show", BRIDGE, check=False).returncode == 0


def _ensure_bridge() -> None:
    if not _bridge_exists():
        _ip("link", "add", BRIDGE, "type", "bridge")
    addrs = _ip("-o", "-4", "addr", "show", "dev", BRIDGE).stdout
    if BRIDGE_ADDRESS not in addrs:
        _ip("addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE)
    _ip("link", "set", BRIDGE, "up")


def _start(lay: DaemonLayout, report: Reporter) -> Endpoint:
    if os.geteuid() != 0:
        raise DockerError(
            "no docker daemon answers (DOCKER_HOST is unset, /var/run/docker.sock is silent) and starting "
            "drafarm's own needs root: start docker yourself or run as root"
        )
    dockerd = shutil.which("dockerd", path=SYSTEM_PATH)
    if dockerd is None:
        raise DockerError("`dockerd` is missing; install the Debian package `docker.io` (`make setup` does, as root)")
    drop = runc_wrapper.missing_capabilities()
    wrapper = runc_wrapper.install(lay.wrapper, drop) if drop else None
    lay.run_dir.mkdir(parents=True, exist_ok=True)
    lay.data_root.mkdir(parents=True, exist_ok=True)
    lay.config.write_text(json.dumps({}))
    _ensure_bridge()
    note = f", runtime wrapper dropping {', '.join(drop)}" if drop else ""
    report(f"starting dockerd (socket {lay.socket}, bridge {BRIDGE} {BRIDGE_ADDRESS}{note})")
    with lay.log.open("ab") as log:
        log.write(f"\n==== drafarm: starting dockerd at {time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            argv(lay, dockerd, wrapper),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={"PATH": SYSTEM_PATH, "HOME": str(Path.home())},
        )

    def answered_or_exited() -> str:
        if ping(lay.socket):
            return "answered"
        return "exited" if proc.poll() is not None else ""

    if poll(answered_or_exited, START_TIMEOUT_S, 0.1) != "answered":
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        _remove_bridge()
        raise DockerError(
            f"dockerd did not answer on {lay.socket} within {START_TIMEOUT_S:.0f}s "
            f"(exit {proc.returncode}); its log ({lay.log}) ends:\n{log_tail(lay.log, 30)}"
        )
    return lay.endpoint


def own_pid(lay: DaemonLayout | None = None) -> int | None:
    """PID of drafarm's own dockerd when it runs (checked against its command line, not only the pidfile)."""
    lay = lay or layout()
    try:
        pid = int(lay.pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if f"--pidfile={lay.pidfile}".encode() in cmdline else None


def _remove_bridge() -> None:
    if _bridge_exists():
        _ip("link", "del", BRIDGE, check=False)


def _leftover_mounts(lay: DaemonLayout) -> list[str]:
    roots = (str(lay.exec_root) + "/", str(lay.data_root) + "/")
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        if point.startswith(roots) or point in (str(lay.exec_root), str(lay.data_root)):
            found.append(point)
    return sorted(found, key=len, reverse=True)


def stop_if_idle(report: Reporter | None = None) -> bool:
    """Stop drafarm's own dockerd when it runs and holds no container; True when it was stopped."""
    lay = layout()
    pid = own_pid(lay)
    if pid is None:
        return False
    if lines(lay.endpoint, "ps", "-aq"):
        return False
    if report:
        report(f"stopping drafarm's dockerd (pid {pid})")
    pids.stop(pid, STOP_TIMEOUT_S, kill_after=10.0)
    for point in _leftover_mounts(lay):
        subprocess.run(["umount", "-l", point], capture_output=True, timeout=30)
    _remove_bridge()
    return True
