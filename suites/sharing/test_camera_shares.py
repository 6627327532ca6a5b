"""Network cameras: viewers take bandwidth shares of one camera; pan/tilt/zoom control is exclusive."""

from __future__ import annotations

from typing import Any

import pytest

from fakedevices.quantity import parse_quantity
from harness import builders as b
from harness.dratest import DraTest

pytestmark = [
    pytest.mark.area("camera-shares"),
    pytest.mark.capability("networkAttached"),
    pytest.mark.needs_farm,
]
SHARES = {"wide": "30M", "narrow": "20M"}
VIEW = (
    "python3 -m fakedevices.client camera-info; "
    "python3 -m fakedevices.client camera-frames --count 3 --check; "
    "echo drafarm-holding; sleep 600"
)


def _camera_config(mode: str) -> dict[str, Any]:
    return {"apiVersion": "drafarm.dev/v1alpha1", "kind": "CameraConfig", "mode": mode}


def _camera(dra: DraTest) -> tuple[str, str]:
    """(CEL selecting one camera, its name): the first camera that fits both shares as asked (its minimum
    share at most the narrower one), so the two claims of a test meet on one camera."""
    narrow, total = parse_quantity(SHARES["narrow"]), sum(parse_quantity(q) for q in SHARES.values())
    for device in sorted(dra.devices(), key=lambda d: (d["pool"], d["name"])):
        bandwidth = (device.get("capacity") or {}).get("bandwidth") or {}
        minimum = ((bandwidth.get("requestPolicy") or {}).get("validRange") or {}).get("min", "0")
        if dra.attribute_of(device, "type") != "camera" or not bandwidth:
            continue
        if parse_quantity(bandwidth["value"]) >= total and parse_quantity(minimum) <= narrow:
            address = dra.attribute_of(device, "ipAddress")
            return f'device.attributes["drafarm.dev"].ipAddress == "{address}"', str(device["name"])
    pytest.skip(f"no camera takes shares of {SHARES}")


def _holding(dra: DraTest, pod: str) -> None:
    dra.wait.until(
        f"pod {pod} to use its camera", lambda: "drafarm-holding" in dra.kube.logs(pod, dra.ns), 180, pod=pod
    )


@pytest.mark.dra_gate("DRAConsumableCapacity")
def test_two_viewers_get_their_own_bandwidth_of_one_camera(dra: DraTest) -> None:
    shares = SHARES
    cel, camera = _camera(dra)
    for name, bandwidth in shares.items():
        dra.claim(name, b.request("cam", dra.device_class("camera"), cel=cel, capacity={"bandwidth": bandwidth}))
        dra.pod(name, VIEW, claims={"cam": name})
    for name in shares:
        _holding(dra, name)
    results = {name: dra.results(name) for name in shares}
    for name, bandwidth in shares.items():
        [result] = results[name]
        assert result["device"] == camera, f"claim {name} should be on {camera}, got {result}"
        consumed = (result.get("consumedCapacity") or {}).get("bandwidth")
        assert consumed == bandwidth, f"claim {name} consumed {consumed!r} of bandwidth, not the {bandwidth} asked"
        info, frames = dra.json_lines(dra.kube.logs(name, dra.ns))[:2]
        assert info["session"].get("bandwidth_mbps") == float(bandwidth.rstrip("M")), (
            f"viewer {name}'s camera session has {info['session'].get('bandwidth_mbps')} Mbps, not its {bandwidth}"
        )
        assert frames.get("ok") is True and frames.get("frames") == 3 and frames.get("counters_increasing"), (
            f"viewer {name} did not get 3 good frames from its share: {frames}"
        )
        assert frames.get("camera") == camera
    share_ids = {r[0].get("shareID") for r in results.values()}
    assert None not in share_ids and len(share_ids) == 2, f"two viewers of one camera need distinct shareIDs: {results}"


def test_camera_control_is_held_by_one_claim_at_a_time(dra: DraTest) -> None:
    cel, camera = _camera(dra)
    for name in ("pilot", "copilot"):
        dra.claim(
            name,
            b.request("cam", dra.device_class("camera"), cel=cel),
            config=[b.opaque(dra.driver, _camera_config("control"))],
        )
    dra.pod(
        "pilot",
        "python3 -m fakedevices.client camera-ptz --pan 10; echo drafarm-holding; sleep 600",
        claims={"cam": "pilot"},
    )
    _holding(dra, "pilot")
    [ptz] = dra.json_lines(dra.kube.logs("pilot", dra.ns))
    assert ptz.get("ok") is True and ptz.get("pan") == 10, f"the controlling pod could not move the camera: {ptz}"

    dra.pod("copilot", "python3 -m fakedevices.client camera-ptz --pan 20", claims={"cam": "copilot"})
    event = dra.wait.event("copilot", "FailedPrepareDynamicResources", "control", 120)
    assert "exclusive control is held" in str(event.get("message")), (
        f"a second control session on {camera} should be refused while pilot holds control: {event.get('message')}"
    )
    assert ((dra.get("Pod", "copilot") or {}).get("status") or {}).get("phase") == "Pending"

    dra.kube.delete("Pod", "pilot", dra.ns, grace=0)
    logs = dra.wait.pod_succeeded("copilot", timeout=180)
    [moved] = dra.json_lines(logs)
    assert moved.get("ok") is True and moved.get("pan") == 20, (
        f"once pilot went, copilot could not take control: {moved}"
    )
