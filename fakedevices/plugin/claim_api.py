"""ResourceClaims from the API server as JSON: get one, list all, watch all.

Plain HTTP over the kubeconfig's connection settings (lightkube's adapter: TLS, tokens, exec plugins),
without lightkube's models: the plugin reads a handful of fields (decoding into models and back was a
tenth of a GET's client CPU; the HTTP client and TLS are the rest). No client-side rate limit:
lightkube has none, and the one GET per prepare that the cache does not spare must not queue behind a
QPS budget (client-go's default, 5 QPS, held a Go driver to 5 prepares/s). The API server's own
priority and fairness still applies.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from lightkube.config.client_adapter import Client as http_client
from lightkube.config.client_adapter import ConnectionParams

from fakedevices.plugin.claims import ClaimError

CLAIMS = "/apis/resource.k8s.io/v1/resourceclaims"
LIST_PAGE = 500
WATCH_SECONDS = 60  # the server ends each watch after this; it is resumed from the last version seen
WATCH_READ_TIMEOUT = 90.0  # longer than a watch runs, and than the server's bookmark interval (1 min)
GET_TIMEOUT = 10.0


class WatchExpired(Exception):
    """The API server no longer has events from that resource version (HTTP 410): list again."""


class ClaimApi:
    def __init__(self, config: Any) -> None:
        self._config = config
        self._http = http_client(config, ConnectionParams())
        self._watch_http: Any = None
        self._stream_socket: socket.socket | None = None
        self._lock = threading.Lock()

    def get(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        """The claim, or None when there is none of that name; `ClaimError` when the API server
        cannot be asked (names are checked by the caller: DNS names need no escaping)."""
        where = f"claim {namespace}/{name}"
        try:
            response = self._http.get(f"/apis/resource.k8s.io/v1/namespaces/{namespace}/resourceclaims/{name}")
        except Exception as exc:  # the HTTP client's transport errors
            raise ClaimError(
                f"{where}: the API server could not be reached ({type(exc).__name__}: {exc}); the kubelet retries"
            ) from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ClaimError(f"{where}: the API server answered the GET with {_status(response)}; {_fix(response)}")
        result: Mapping[str, Any] = json.loads(response.content)
        return result

    def list_all(self) -> tuple[list[dict[str, Any]], str]:
        """Every claim in every namespace, and the resource version to watch from."""
        items: list[dict[str, Any]] = []
        params: dict[str, str | int] = {"limit": LIST_PAGE}
        while True:
            response = self._http.get(CLAIMS, params=params)
            if response.status_code != 200:
                raise ClaimError(f"listing ResourceClaims: {_status(response)}; {_fix(response)}")
            page = json.loads(response.content)
            items.extend(page.get("items") or ())
            meta = page.get("metadata") or {}
            if not meta.get("continue"):
                return items, str(meta.get("resourceVersion", ""))
            params["continue"] = meta["continue"]

    def watch(self, resource_version: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(type, object) events after `resource_version` until the server ends the watch; BOOKMARK
        events carry only the new resource version. `WatchExpired` when that version is too old."""
        params = {
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": WATCH_SECONDS,
        }
        with self._lock:
            if self._watch_http is None:
                self._watch_http = http_client(self._config, ConnectionParams())
            http = self._watch_http
        with http.stream("GET", CLAIMS, params=params, timeout=WATCH_READ_TIMEOUT) as response:
            if response.status_code == 410:
                raise WatchExpired(resource_version)
            if response.status_code != 200:
                response.read()
                raise ClaimError(f"watching ResourceClaims: {_status(response)}; {_fix(response)}")
            self._stream_socket = _socket_of(response)
            try:
                for line in response.iter_lines():
                    if not line:
                        continue
                    event = json.loads(line)
                    kind, obj = event.get("type", ""), event.get("object") or {}
                    if kind == "ERROR":
                        if obj.get("code") == 410:
                            raise WatchExpired(resource_version)
                        raise ClaimError(f"watching ResourceClaims: the API server sent {obj.get('message')!r}")
                    yield kind, obj
            finally:
                self._stream_socket = None

    def interrupt_watch(self) -> None:
        """Wake a watch blocked reading (from another thread): its stream ends with an error."""
        sock = self._stream_socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.interrupt_watch()
        self._http.close()
        if self._watch_http is not None:
            self._watch_http.close()


def _socket_of(response: Any) -> socket.socket | None:
    stream = response.extensions.get("network_stream")
    try:
        found = stream.get_extra_info("socket") if stream is not None else None
    except Exception:  # transports without that extra
        return None
    return found if isinstance(found, socket.socket) else None


def _status(response: Any) -> str:
    try:
        message = str(json.loads(response.content).get("message", ""))
    except (ValueError, AttributeError):
        message = response.text[:200]
    return f"HTTP {response.status_code} ({' '.join(message.split())[:300]})"


def _fix(response: Any) -> str:
    if response.status_code in (401, 403):
        return "give the plugin's identity get, list and watch on resourceclaims (resource.k8s.io)"
    return "the kubelet retries"
