"""A third-party driver run next to the local kubelet: its command line, and how readiness is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusters.local.host_driver import HostDriver, upstream_test_driver_argv
from clusters.local.layout import Layout
from clusters.provider import ClusterError


def _driver(root: Path, driver: str = "good-1.upstream.test") -> HostDriver:
    layout = Layout(root)
    argv = upstream_test_driver_argv(Path("/bin/dra-test-driver"), layout, "node-a", driver, num_devices=2)
    return HostDriver(layout, "dra-test-driver-good", driver, "node-a", argv)


def test_the_upstream_driver_gets_the_clusters_kubeconfig_kubelet_dirs_node_and_cdi_dir(tmp_path: Path) -> None:
    argv = _driver(tmp_path).argv
    assert f"--kubeconfig={tmp_path / 'kubeconfig' / 'admin.conf'}" in argv
    assert "--drivername=good-1.upstream.test" in argv
    kubelet_plugin = argv.index("kubelet-plugin")
    assert argv.index("--drivername=good-1.upstream.test") < kubelet_plugin
    assert f"--plugin-registration-path={tmp_path / 'kubelet' / 'plugins_registry'}" in argv[kubelet_plugin:]
    assert f"--datadir={tmp_path / 'kubelet' / 'plugins'}" in argv[kubelet_plugin:]
    assert {"--node-name=node-a", "--num-devices=2", "--cdi-dir=/var/run/cdi"} <= set(argv[kubelet_plugin:])


def test_connected_only_once_the_kubelet_logs_it_after_the_driver_started(tmp_path: Path) -> None:
    host = _driver(tmp_path)
    log = Layout(tmp_path).log("kubelet")
    log.parent.mkdir(parents=True)
    line = (
        'I1201 dra_plugin_manager.go:138] "Connection changed" logger="DRA registration handler" '
        'driverName="good-1.upstream.test" endpoint="/k/plugins/good-1.upstream.test/dra.sock" connected={}\n'
    )
    log.write_text(line.format("true"))  # an earlier instance's connection
    host._kubelet_log_start = log.stat().st_size
    assert not host.kubelet_connected()
    with log.open("a") as fh:
        fh.write(line.format("false"))
    assert not host.kubelet_connected()
    with log.open("a") as fh:
        fh.write(line.format("true"))
    assert host.kubelet_connected()


def test_a_registration_socket_path_too_long_for_unix_sockets_is_refused_with_the_fix(tmp_path: Path) -> None:
    host = _driver(tmp_path / ("d" * 60), "a-rather-long-driver-name-for-a-socket.upstream.test")
    with pytest.raises(ClusterError, match="shorter name"):
        host.start()
