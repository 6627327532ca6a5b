"""One kwok process per fleet: it manages only the nodes with the fleet's label, renews their leases and
plays the fleet's stages on them and their pods. Started in its own session, stopped by PID."""

from __future__ import annotations

import subprocess
from pathlib import Path

from clusters import pids
from clusters.log_tail import log_tail
from clusters.pids import alive
from clusters.virtual.nodes import FLEET_LABEL
from clusters.virtual.stages import config_text

POD_CIDR = "198.18.64.0/18"
"""Addresses kwok gives the pods of virtual nodes (never routed: nothing runs behind them)."""
NODE_IP = "198.18.63.1"
LEASE_S = 40
STOP_S = 10.0


class Kwok:
    def __init__(self, binary: Path, kubeconfig: Path, fleet: str, directory: Path) -> None:
        self.binary = binary
        self.kubeconfig = kubeconfig
        self.fleet = fleet
        self.directory = directory
        self.pidfile = directory / "kwok.pid"
        self.log = directory / "kwok.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None

    def argv(self, config: Path) -> list[str]:
        return [
            str(self.binary),
            f"--config={config}",
            f"--kubeconfig={self.kubeconfig}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=",
            f"--manage-nodes-with-label-selector={FLEET_LABEL}={self.fleet}",
            f"--cidr={POD_CIDR}",
            f"--node-ip={NODE_IP}",
            f"--node-lease-duration-seconds={LEASE_S}",
        ]

    def start(self) -> int:
        """Start kwok unless it runs; its PID."""
        running = self.pid()
        if running is not None:
            return running
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "kwok.yaml"
        config.write_text(config_text())
        with self.log.open("ab") as log:
            proc = subprocess.Popen(self.argv(config), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, cwd=self.directory)  # fmt: skip
        self.pidfile.write_text(f"{proc.pid}\n")
        return proc.pid

    def stop(self) -> None:
        pid = self.pid()
        if pid is None:
            return
        pids.stop(pid, STOP_S)
        self.pidfile.unlink(missing_ok=True)

    def log_tail(self, lines: int = 20) -> str:
        return log_tail(self.log, lines)
