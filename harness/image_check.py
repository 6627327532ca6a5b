"""Before any test: the image the suites' pods use must start on the cluster's nodes.

On drafarm's own clusters the workload image is imported at `up`; on a cluster given by kubeconfig it
may not exist, and every test would then time out on ImagePullBackOff. One pod finds out first."""

from __future__ import annotations

import uuid
from typing import Any

from clusters.polling import poll
from harness.kube import Kube

CHECK_TIMEOUT_S = 180.0
HOPELESS_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "CreateContainerError")


class ImageError(RuntimeError):
    """The suites' image does not run on the cluster; the message names the image, what was seen, the fix."""


def check_image_runs(kube: Kube, image: str, timeout: float = CHECK_TIMEOUT_S) -> None:
    namespace = f"drafarm-image-check-{uuid.uuid4().hex[:6]}"
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    try:
        _wait_for_service_account(kube, namespace, timeout)
        kube.create(_pod(image, namespace))

        def status() -> dict[str, Any]:
            found: dict[str, Any] = (kube.get("Pod", "check", namespace) or {}).get("status") or {}
            return found

        def ended(seen: dict[str, Any]) -> bool:
            return seen.get("phase") in ("Succeeded", "Failed") or bool(_waiting_reason(seen))

        seen = poll(status, timeout, 0.5, done=ended)
        if seen.get("phase") != "Succeeded":
            raise ImageError(_explain(kube, image, namespace, seen, _waiting_reason(seen)))
    finally:
        kube.delete("Namespace", namespace)


def _wait_for_service_account(kube: Kube, namespace: str, timeout: float) -> None:
    if not poll(lambda: kube.get("ServiceAccount", "default", namespace) is not None, timeout, 0.2):
        raise ImageError(f"namespace {namespace} got no default service account in {timeout:.0f}s")


def _pod(image: str, namespace: str) -> dict[str, Any]:
    container = {"name": "check", "image": image, "command": ["sh", "-c", "echo drafarm-image-ok"]}
    spec = {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1, "containers": [container]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "check", "namespace": namespace}, "spec": spec}


def _waiting_reason(status: dict[str, Any]) -> str:
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in HOPELESS_REASONS:
            return f"{waiting['reason']}: {waiting.get('message', '')}".strip()
    return ""


def _explain(kube: Kube, image: str, namespace: str, status: dict[str, Any], reason: str) -> str:
    events = "; ".join(str(e.get("message", "")) for e in kube.events(namespace, "check")[-3:])
    seen = reason or f"phase {status.get('phase', 'Pending')}"
    return (
        f"the suites' pods use image {image!r}, and it does not run `sh` on this cluster's nodes ({seen}; "
        f"events: {events or 'none'}). Give an image the nodes can pull that has a POSIX shell and env/grep: "
        "`spec.image` in the driver profile, or IMAGE=... for `make conformance` (--drafarm-image)"
    )
