"""DeviceTaintRules a test puts on the driver's devices for the duration of a block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lightkube import ApiError
from lightkube.codecs import from_dict

from harness.dratest import DraTest

TAINT_KEY = "drafarm.dev/suite-taint"


@contextmanager
def device_taint(dra: DraTest, effect: str, pool: str, device: str | None = None) -> Iterator[str]:
    """A DeviceTaintRule on one device of `pool`, or on every device of it; always deleted afterwards."""
    version = "v1beta2" if (dra.env.minor or 0) >= 36 else "v1alpha3"
    selector = {"driver": dra.driver, "pool": pool, **({"device": device} if device else {})}
    rule = from_dict(
        {
            "apiVersion": f"resource.k8s.io/{version}",
            "kind": "DeviceTaintRule",
            "metadata": {"name": f"{dra.ns}-{effect.lower()}"},
            "spec": {"deviceSelector": selector, "taint": {"key": TAINT_KEY, "value": dra.ns, "effect": effect}},
        }
    )
    created: Any = dra.kube.client.create(rule)
    try:
        yield str(created.metadata.name)
    finally:
        try:
            dra.kube.client.delete(type(rule), created.metadata.name)
        except ApiError as exc:
            if exc.status.code != 404:
                raise
