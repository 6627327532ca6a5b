"""A kube-scheduler of another Kubernetes version beside a running cluster's own, scheduling only the
scenario's pods (its profile has its own `schedulerName`; the runner sets it on every pod it creates).

A bug that lives in the scheduler alone is then reproduced on the shared cluster without replacing
it: the other tests keep the cluster's scheduler, and a panic kills only this one.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

from clusters.local import featuregates
from clusters.log_tail import read_tail
from clusters.polling import poll
from clusters.toolchain import builder, components, lookup, versions
from clusters.toolchain.progress import BuildProgress

SCHEDULER_NAME = "drafarm-scenario-scheduler"
READY_TIMEOUT_S = 90.0


class SideSchedulerError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _built_scheduler(pins: versions.ToolPins) -> Path | None:
    """The version's kube-scheduler if it is built already (without waiting for a build of the rest)."""
    (module,) = components.modules(pins, ("kubernetes",))
    only = components.with_binary(module, "kube-scheduler")
    path = builder.binary_path(only, only.binaries[0])
    return path if os.access(path, os.X_OK) else None


class SideScheduler:
    def __init__(self, version: str, kubeconfig: Path) -> None:
        self.pins = versions.resolve(version)
        self.version = self.pins.kubernetes
        self.kubeconfig = kubeconfig
        self._dir = tempfile.TemporaryDirectory(prefix="drafarm-side-scheduler-")
        self.log = Path(self._dir.name) / "kube-scheduler.log"
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self, binary: Path) -> list[str]:
        config = Path(self._dir.name) / "config.yaml"
        config.write_text(
            "apiVersion: kubescheduler.config.k8s.io/v1\n"
            "kind: KubeSchedulerConfiguration\n"
            f"clientConnection: {{kubeconfig: {self.kubeconfig}}}\n"
            "leaderElection: {leaderElect: false}\n"
            f"profiles: [{{schedulerName: {SCHEDULER_NAME}}}]\n"
        )
        gates = featuregates.gates_flag(featuregates.dra_gates(self.pins.minor))
        return [
            str(binary),
            f"--config={config}",
            f"--authentication-kubeconfig={self.kubeconfig}",
            f"--authorization-kubeconfig={self.kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={self.port}",
            f"--cert-dir={self._dir.name}",
            f"--feature-gates={gates}",
            "--v=2",
        ]

    def start(self, say: Callable[[str], None] | None = None) -> None:
        """Start it (building this version's kube-scheduler first if needed, each step told to `say`)."""
        binary = _built_scheduler(self.pins)
        if binary is None:
            report = BuildProgress(self.pins, say or (lambda _text: None), ("kubernetes",))
            with report:
                binary = lookup.program(self.pins, "kubernetes", "kube-scheduler", report=report)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command(binary), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        proc = self.proc

        def healthy_or_exited() -> str:
            if self._healthy():
                return "healthy"
            return "exited" if proc.poll() is not None else ""

        if poll(healthy_or_exited, READY_TIMEOUT_S, 0.5) != "healthy":
            tail = read_tail(self.log, 10)
            self.stop()
            raise SideSchedulerError(f"kube-scheduler {self.version} did not become healthy:\n{tail}")

    def _healthy(self) -> bool:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # its own self-signed serving certificate, on loopback
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{self.port}/healthz", context=context, timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def state(self) -> str:
        if self.proc is None:
            return "not started"
        code = self.proc.poll()
        return f"running (pid {self.proc.pid}, {self.version})" if code is None else f"exited with {code}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()
