"""Non-resource paths (`/version`, `/metrics`) are read through lightkube's public configuration: the same
server and credentials as every other request, no private client attributes."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.kube import Kube

VERSION = {"major": "1", "minor": "99", "gitVersion": "v1.99.0"}


class _ApiServer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get("Authorization") != "Bearer unit-token":
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps(VERSION if self.path == "/version" else {}).encode()
        self.send_response(200 if self.path == "/version" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        return None


def _kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: unit\n"
        f"clusters: [{{name: unit, cluster: {{server: '{server}'}}}}]\n"
        "users: [{name: unit, user: {token: unit-token}}]\n"
        "contexts: [{name: unit, context: {cluster: unit, user: unit}}]\n"
    )
    return path


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Iterator[Path]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ApiServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield _kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()


def test_version_is_read_with_the_kubeconfigs_server_and_credentials(kubeconfig: Path) -> None:
    kube = Kube(kubeconfig)
    assert kube.version() == VERSION
    assert kube.raw_get("/metrics")[0] == 404


def test_an_unreachable_server_gives_status_0_and_the_reason(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    kube = Kube(_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{port}"))
    status, reason = kube.raw_get("/version")
    assert status == 0 and reason
    assert kube.version() == {}
