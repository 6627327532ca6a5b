"""The two plugins the real-path benchmark measures, each as the host process a user runs.

drafarm: `drafarm plugin run` for one node of a farm, with the cluster's admin kubeconfig, its own
kubelet root, state and CDI dirs under STATE_ROOT and its Prometheus port; not published nor
registered with the cluster's kubelet, so the shared cluster's scheduler never hands its devices out.
Go: the upstream DRA test driver (the kubeletplugin helper), registered with the cluster's kubelet by
`HostDriver`, its client-go rate limit set by flags, its CDI dir under STATE_ROOT too. STATE_ROOT is
a tmpfs, as /run (the plugins' default home for state and CDI specs) is on a node: on a disk, file
creates and renames wait on the journal behind whatever else writes to it, and the figures measure
the disk.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from benchmarks.kubelet import BenchKubelet, wait_for_socket
from benchmarks.plugin_host import host_layout
from clusters.local.host_driver import HostDriver, upstream_test_driver_argv
from clusters.local.provider import LocalProvider
from clusters.log_tail import log_tail

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_ROOT = Path("/dev/shm")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DrafarmPlugin:
    name = "drafarm"

    def __init__(self, cluster: LocalProvider, farm: str, node: str, timeout: float) -> None:
        self.root = STATE_ROOT / f"drafarm-rb{os.getpid()}"
        self.node = node
        self.metrics_port = free_port()
        self.log_path = self.root / "plugin.log"
        self.root.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "harness", "plugin", "run", "--node", node, "--farm", farm, "--no-publish"]
        layout = host_layout(self.root)
        command += ["--kubeconfig", str(cluster.kubeconfig()), "--kubelet-root", str(layout.kubelet_root)]
        command += ["--state-dir", str(layout.state_dir), "--cdi-dir", str(layout.cdi_dir)]
        command += ["--metrics-port", str(self.metrics_port)]
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=REPO_ROOT)
        self.pid = self.proc.pid
        self.command = "drafarm " + " ".join(command[3:])
        try:
            socket_path = layout.registration_socket
            wait_for_socket(socket_path, timeout)
            self.kubelet = BenchKubelet(socket_path)
            self.kubelet.register()
        except BaseException:
            self.stop()
            raise

    def claim_reads(self) -> dict[str, float]:
        """drafarm_plugin_claim_reads_total by source, from the plugin's metrics endpoint."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        reads: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("drafarm_plugin_claim_reads_total{"):
                source = line.split('source="', 1)[1].split('"', 1)[0]
                reads[source] = float(line.rsplit(" ", 1)[1])
        return reads

    def log_tail(self, lines: int = 20) -> str:
        return log_tail(self.log_path, lines, "(no log)")

    def stop(self) -> None:
        if getattr(self, "kubelet", None) is not None:
            self.kubelet.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)


class GoDriver:
    def __init__(
        self, cluster: LocalProvider, binary: Path, devices: int, qps: float, burst: int, verbosity: int,
        name: str = "go",
    ) -> None:  # fmt: skip
        self.name = name
        self.node = cluster.nodes()[0]
        self.driver = f"rb-{os.getpid()}.upstream.test"
        self.cdi_dir = STATE_ROOT / f"drafarm-rb{os.getpid()}-go-cdi"
        argv = upstream_test_driver_argv(
            binary, cluster.layout, self.node, self.driver, cdi_dir=self.cdi_dir, num_devices=devices,
            verbosity=verbosity,
        )  # fmt: skip
        at = argv.index("kubelet-plugin")
        argv[at:at] = [f"--kube-api-qps={qps:g}", f"--kube-api-burst={burst}"]
        self.command = " ".join(argv)
        self.host = HostDriver(
            cluster.layout, f"dra-test-driver-rb-{os.getpid()}", self.driver, self.node, argv, (self.cdi_dir,)
        )
        self.host.start()
        try:
            self.host.wait_ready()
            assert self.host.pid is not None
            self.pid = self.host.pid
            self.kubelet = BenchKubelet(self.host.registration_socket)
            self.kubelet.connect()
        except BaseException:
            self.stop()
            raise

    def log_tail(self, lines: int = 20) -> str:
        return self.host.tail(lines)

    def stop(self) -> None:
        if getattr(self, "kubelet", None) is not None:
            self.kubelet.close()
        self.host.stop()
        shutil.rmtree(self.cdi_dir, ignore_errors=True)
