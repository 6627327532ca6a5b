"""Slices come back when deleted (the kubelet deletes a node's slices when it restarts)."""

from __future__ import annotations

import pytest

from harness.dratest import DraTest

pytestmark = [pytest.mark.area("slices"), pytest.mark.smoke]


def test_deleted_node_slices_are_republished(dra: DraTest) -> None:
    slices = [
        s for s in dra.kube.items("ResourceSlice", fields={"spec.driver": dra.driver}) if s["spec"].get("nodeName")
    ]
    assert slices, f"driver {dra.driver} publishes no node-local slices"
    node = slices[0]["spec"]["nodeName"]
    mine = [s for s in slices if s["spec"]["nodeName"] == node]
    devices = sorted(d["name"] for s in mine for d in s["spec"].get("devices") or [])
    for s in mine:
        dra.kube.delete("ResourceSlice", s["metadata"]["name"])

    def republished() -> bool:
        now = dra.kube.items("ResourceSlice", fields={"spec.driver": dra.driver, "spec.nodeName": node})
        return sorted(d["name"] for s in now for d in s["spec"].get("devices") or []) == devices

    dra.wait.until(f"{dra.driver} to republish node {node}'s slices", republished, 30)
