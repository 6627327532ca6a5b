"""Slices come back when deleted (the kubelet deletes a node's slices when it restarts)."""

from __future__ import annotations

from typing import Any

import pytest
from lightkube import ApiError

from harness.dratest import DraTest
from harness.waiters import WaitTimeout

pytestmark = [pytest.mark.area("slices"), pytest.mark.smoke]


def _node_slices(dra: DraTest, node: str | None = None) -> list[dict[str, Any]]:
    fields = {"spec.driver": dra.driver, **({"spec.nodeName": node} if node else {})}
    return [s for s in dra.kube.items("ResourceSlice", fields=fields) if s["spec"].get("nodeName")]


def _devices(slices: list[dict[str, Any]]) -> list[str]:
    return sorted(d["name"] for s in slices for d in s["spec"].get("devices") or [])


def _restore(dra: DraTest, deleted: list[dict[str, Any]]) -> None:
    """Put back the slices the driver did not republish, so the tests after this one find its devices."""
    for slice_ in deleted:
        meta = slice_["metadata"]
        keep = {k: meta[k] for k in ("name", "labels", "ownerReferences") if meta.get(k)}
        obj = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice", "metadata": keep, "spec": slice_["spec"]}
        try:
            dra.kube.create(obj)
        except ApiError as exc:
            if exc.status.code != 409:  # 409: the driver was quicker
                raise


@pytest.mark.devices_alone  # while its slices are gone, no other test could allocate the driver's devices
def test_deleted_node_slices_are_republished(dra: DraTest) -> None:
    slices = _node_slices(dra)
    assert slices, f"driver {dra.driver} publishes no node-local slices"
    node = slices[0]["spec"]["nodeName"]
    mine = [s for s in slices if s["spec"]["nodeName"] == node]
    devices = _devices(mine)

    def republished() -> bool:
        return _devices(_node_slices(dra, node)) == devices

    deadline = dra.profile.republish_within_s  # the profile's republishWithinSeconds (default 90)
    for s in mine:
        dra.kube.delete("ResourceSlice", s["metadata"]["name"])
    try:
        dra.wait.until(f"{dra.driver} to republish node {node}'s slices", republished, deadline)
    except WaitTimeout as exc:
        raise AssertionError(
            f"driver {dra.driver} did not republish node {node}'s ResourceSlices within {deadline}s "
            f"of their deletion (devices {devices}, now {_devices(_node_slices(dra, node))}): a kubelet restart "
            "deletes a node's slices, and a driver must notice and publish them again (a driver that is slow by "
            "design can say how slow: the profile's spec.republishWithinSeconds)"
        ) from exc
    finally:
        if not republished():
            _restore(dra, mine)
