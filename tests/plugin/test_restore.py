"""A restart rebuilds what containers get from the checkpoint alone, exactly as prepare built it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.plugin.api import ClaimRef
from fakedevices.plugin.container_devices import Grant
from fakedevices.plugin.driver import NodeDriver
from fakedevices.plugin.inventory import NodeInventory
from fakedevices.plugin.layout import PluginLayout
from tests.plugin.kit import DRIVER, NODE, Claim, ClaimStore, opaque, result

SHA = "d" * 64
CAMERA_SESSION_ONLY = ("_ADDR=",)
"""A loopback camera's re-opened session gets a fresh port (its token is kept): known, see the note."""


def _driver(root: Path, claims: ClaimStore) -> NodeDriver:
    layout = PluginLayout(DRIVER, root / "state", kubelet_root=root / "kubelet", cdi_dir=root / "cdi")
    driver = NodeDriver(NodeInventory(build_farm(load_farm_spec("small")), NODE), claims, layout)
    driver.start()
    return driver


def _every_kind_of_grant(claims: ClaimStore) -> Claim:
    """A configured GPU, a partition asked for by a subrequest, an FPGA with a bitstream, a camera, and an
    GPU watched with admin access."""
    configs = [
        opaque({"kind": "GpuConfig", "sharing": {"strategy": "TimeSlicing"}}, ["gpu"]),
        opaque({"kind": "FpgaConfig", "bitstream": {"name": "reverse", "family": "agilex7", "sha256": SHA}}),
    ]
    return claims.add(
        Claim(
            "everything",
            [
                result("gpu", "gpu-0"),
                result("slice/small", "gpu-1-1g-5gb-0"),
                result("fpga", "fpga-0"),
                result("cam", "lobby-cam-0", pool="lobby"),
                result("watch", "gpu-2", adminAccess=True),
            ],
            configs,
        )
    )


def test_a_restored_claim_gets_the_cdi_devices_its_prepare_wrote(short_tmp: Path, claims: ClaimStore) -> None:
    claim = _every_kind_of_grant(claims)
    ref = ClaimRef(claim.namespace, claim.uid, claim.name)
    first = _driver(short_tmp, claims)
    outcome = first.prepare([ref])[claim.uid]
    assert outcome.error == ""
    spec = first.layout.cdi_spec(claim.uid)
    written = spec.read_bytes()
    first.stop()
    spec.unlink()  # lost with a tmpfs /var/run on reboot: the restart writes it again
    claims.delete(claim)  # the restart works from the checkpoint alone

    second = _driver(short_tmp, claims)
    try:
        assert _lasting(spec.read_bytes()) == _lasting(written)
        assert second.prepare([ref])[claim.uid].devices == outcome.devices
    finally:
        second.stop()


def test_attaching_a_checkpointed_device_again_gives_its_record_and_cdi_device(
    short_tmp: Path, claims: ClaimStore
) -> None:
    claim = _every_kind_of_grant(claims)
    driver = _driver(short_tmp, claims)
    try:
        prepared = driver.prepare([ClaimRef(claim.namespace, claim.uid, claim.name)])[claim.uid].devices
        written = json.loads(driver.layout.cdi_spec(claim.uid).read_text())["devices"]
        where = f"claim {claim.namespace}/{claim.name}"
        again = [driver.devices.attach(claim.uid, Grant.of(device), where) for device in prepared]
        assert [record for record, _ in again] == list(prepared)
        assert [{"name": cdi.name, "containerEdits": cdi.edits.to_cdi()} for _, cdi in again] == written
        [admin] = [record for record, _ in again if record.admin_access]
        assert (admin.device, admin.session_id, admin.endpoint) == ("gpu-2", "", "")
    finally:
        driver.stop()


def _lasting(spec: bytes) -> dict[str, Any]:
    """The CDI spec without what a camera session cannot keep across a restart."""
    document: dict[str, Any] = json.loads(spec)
    for device in document["devices"]:
        edits = device["containerEdits"]
        edits["env"] = [
            e for e in edits.get("env", []) if not ("_CAMERA_" in e and any(k in e for k in CAMERA_SESSION_ONLY))
        ]
    return document
