"""A real third-party DRA driver's kubelet plugin run as a host process next to the local cluster's kubelet.

The way `deploy_farm` runs our own plugin, for any driver binary: started with the cluster's admin
kubeconfig and kubelet root dir, ready once the kubelet connected to it and its ResourceSlices are in
the API, stopped by its PID. `upstream_test_driver_argv` gives the command line of the upstream DRA test
driver (`k8s.io/kubernetes/test/e2e/dra/test-driver`, built by the toolchain as `dra-test-driver`).
"""

from __future__ import annotations

import os
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from lightkube import Client, KubeConfig
from lightkube.resources.resource_v1 import ResourceSlice

from clusters.local import processes
from clusters.local.layout import Layout
from clusters.log_tail import log_tail
from clusters.polling import poll
from clusters.provider import ClusterError
from fakedevices.plugin.layout import DYNAMIC_CDI_DIR, plugins_dir, registration_dir, registration_socket

READY_TIMEOUT_S = 60.0
UNIX_PATH_MAX = 107
STOP_TIMEOUT_S = 15.0


def upstream_test_driver_argv(
    binary: Path,
    layout: Layout,
    node: str,
    driver: str,
    *,
    cdi_dir: Path = DYNAMIC_CDI_DIR,
    num_devices: int = 4,
    verbosity: int = 3,
) -> list[str]:
    kubelet_root = layout.kubelet_root
    return [
        str(binary), f"--kubeconfig={layout.admin_kubeconfig}", f"--drivername={driver}", f"-v={verbosity}",
        "kubelet-plugin", f"--node-name={node}", f"--num-devices={num_devices}", f"--cdi-dir={cdi_dir}",
        f"--plugin-registration-path={registration_dir(kubelet_root)}", f"--datadir={plugins_dir(kubelet_root)}",
    ]  # fmt: skip


@dataclass
class HostDriver:
    """One driver process of the local cluster; `component` names its log and PID file in the layout."""

    layout: Layout
    component: str
    driver: str
    node: str
    argv: list[str]
    cdi_dirs: tuple[Path, ...] = (DYNAMIC_CDI_DIR,)
    pid: int | None = None
    _kubelet_log_start: int = field(default=0, repr=False)
    _client: Client | None = field(default=None, repr=False)

    @property
    def log(self) -> Path:
        return self.layout.log(self.component)

    @property
    def registration_socket(self) -> Path:
        return registration_socket(self.layout.kubelet_root, self.driver)

    def start(self) -> int:
        if self.pid is not None and processes.alive(self.pid):
            raise ClusterError(f"{self.component} already runs (pid {self.pid})")
        if len(str(self.registration_socket).encode()) > UNIX_PATH_MAX:
            raise ClusterError(
                f"the registration socket {self.registration_socket} would be longer than a unix socket path "
                f"may be ({UNIX_PATH_MAX} bytes): give the driver a shorter name, or the cluster a shorter "
                "state directory ($DRAFARM_STATE_DIR)"
            )
        # What a DaemonSet's hostPath volumes would create; the upstream test driver expects them.
        (plugins_dir(self.layout.kubelet_root) / self.driver).mkdir(parents=True, exist_ok=True)
        self.registration_socket.parent.mkdir(parents=True, exist_ok=True)
        kubelet_log = self.layout.log("kubelet")
        self._kubelet_log_start = kubelet_log.stat().st_size if kubelet_log.exists() else 0
        self.pid = processes.start(self.layout, self.component, self.argv, env={"PATH": "/usr/sbin:/usr/bin:/bin"})
        return self.pid

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Until the kubelet connected to the plugin and the driver's slices for the node are published."""

        def ready() -> bool:
            if self.pid is None or not processes.alive(self.pid):
                raise ClusterError(f"DRA driver {self.driver} exited during start (log {self.log}):\n{self.tail()}")
            return self.kubelet_connected() and bool(self.slices())

        if poll(ready, timeout, 0.25):
            return
        raise ClusterError(
            f"DRA driver {self.driver} not ready after {timeout:.0f}s: kubelet connected={self.kubelet_connected()}, "
            f"registration socket {self.registration_socket} "
            f"{'exists' if self.registration_socket.exists() else 'missing'}, "
            f"{len(self.slices())} ResourceSlice(s) for node {self.node}; driver log:\n{self.tail()}"
        )

    def kubelet_connected(self) -> bool:
        """The kubelet logs `"Connection changed" ... driverName=... connected=true` (at -v=2) once it
        registered the plugin and its gRPC connection to the DRA service is up."""
        try:
            with self.layout.log("kubelet").open("rb") as fh:
                fh.seek(self._kubelet_log_start)
                text = fh.read().decode(errors="replace")
        except OSError:
            return False
        name = f'driverName="{self.driver}"'
        return any(
            '"Connection changed"' in line and name in line and line.rstrip().endswith("connected=true")
            for line in text.splitlines()
        )

    def slices(self) -> list[dict[str, Any]]:
        if self._client is None:
            self._client = Client(KubeConfig.from_file(str(self.layout.admin_kubeconfig)))
        found = self._client.list(ResourceSlice, fields={"spec.driver": self.driver, "spec.nodeName": self.node})
        return [s.to_dict() for s in found]

    def freeze(self) -> None:
        """SIGSTOP: the process stays (its sockets too) but answers nothing, as a hung driver does."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals) -> None:
        if self.pid is not None and processes.alive(self.pid):
            os.kill(self.pid, sig)

    def stop(self) -> None:
        """Stop by PID; remove what a killed driver leaves: its sockets and its CDI specs."""
        self.thaw()
        processes.stop(self.layout, self.component, STOP_TIMEOUT_S)
        self.pid = None
        self.registration_socket.unlink(missing_ok=True)
        shutil.rmtree(plugins_dir(self.layout.kubelet_root) / self.driver, ignore_errors=True)
        for directory in self.cdi_dirs:
            for leftover in directory.glob(f"{self.driver}-*.json"):
                leftover.unlink(missing_ok=True)

    def tail(self, lines: int = 25) -> str:
        return log_tail(self.log, lines, "<no log>")

    def __enter__(self) -> HostDriver:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
