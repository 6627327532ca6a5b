"""What `plugin run` checks before it creates anything: the kubeconfig loads, the API server answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightkube import ApiError
from lightkube.resources.core_v1 import Node

from fakedevices.plugin.kube import make_client


class StartupError(RuntimeError):
    """The plugin cannot start as asked; the message names the input and the fix."""


def checked_client(kubeconfig: Path | None) -> Any:
    """A client for `kubeconfig` (or the environment's), or `StartupError` saying what is wrong with it."""
    where = f"kubeconfig {kubeconfig}" if kubeconfig is not None else "the default kubeconfig (KUBECONFIG, ~/.kube)"
    try:
        return make_client(kubeconfig)
    except Exception as exc:  # lightkube and yaml raise many kinds for a bad file
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        raise StartupError(
            f"{where} cannot be used ({reason}); give --kubeconfig a valid kubeconfig "
            "(e.g. from `drafarm cluster kubeconfig`)"
        ) from None


def check_reachable(client: Any, node: str, kubeconfig: Path | None) -> None:
    """`StartupError` unless the API server answers (any API answer, a 404 too, counts)."""
    try:
        client.get(Node, node)
    except ApiError:
        return
    except Exception as exc:  # transport errors of the HTTP client
        server = getattr(getattr(client, "_client", None), "base_url", None) or "the API server"
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        raise StartupError(
            f"cannot reach {server} from {kubeconfig or 'the default kubeconfig'} ({reason}); start the "
            "cluster, or fix --kubeconfig, or pass --no-publish to serve without publishing slices"
        ) from None
