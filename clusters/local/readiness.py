"""Readiness checks: each answers "is this component serving yet?" without raising."""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from clusters.local.layout import Layout

HTTP_TIMEOUT_S = 2.0


def _get(url: str, context: ssl.SSLContext | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S, context=context) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (OSError, ValueError):
        return 0, ""


def client_context(layout: Layout, user: str = "admin") -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(layout.pki / "ca.crt"))
    ctx.load_cert_chain(str(layout.pki / f"{user}.crt"), str(layout.pki / f"{user}.key"))
    return ctx


def insecure_context() -> ssl.SSLContext:
    """For loopback health endpoints that serve self-signed certificates."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def etcd_ready(port: int) -> bool:
    status, body = _get(f"http://127.0.0.1:{port}/health")
    if status != 200:
        return False
    try:
        return bool(json.loads(body).get("health") == "true")
    except ValueError:
        return False


def apiserver_ready(url: str, layout: Layout) -> bool:
    status, _ = _get(f"{url}/readyz", client_context(layout))
    return status == 200


def healthz(port: int) -> bool:
    status, body = _get(f"https://127.0.0.1:{port}/healthz", insecure_context())
    return status == 200 and body.strip() == "ok"


def kubelet_healthz(port: int) -> bool:
    status, body = _get(f"http://127.0.0.1:{port}/healthz")
    return status == 200 and body.strip() == "ok"


def containerd_ready(ctr: Path, socket: Path) -> bool:
    if not socket.exists():
        return False
    try:
        proc = subprocess.run([str(ctr), "--address", str(socket), "version"], capture_output=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and b"Server:" in proc.stdout


def node_ready(url: str, layout: Layout, node: str) -> bool:
    status, body = _get(f"{url}/api/v1/nodes/{node}", client_context(layout))
    if status != 200:
        return False
    try:
        conditions = json.loads(body)["status"].get("conditions", [])
    except (ValueError, KeyError):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def node_ready_message(url: str, layout: Layout, node: str) -> str:
    status, body = _get(f"{url}/api/v1/nodes/{node}", client_context(layout))
    if status != 200:
        return f"GET node {node} → HTTP {status}"
    try:
        conditions = json.loads(body)["status"].get("conditions", [])
    except (ValueError, KeyError):
        return "node has no status yet"
    return "; ".join(f"{c.get('type')}={c.get('status')} ({c.get('message', '')})" for c in conditions)
