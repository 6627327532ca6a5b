"""An unhealthy device shows in the pod's status (KEP-4680) and in the workload that uses it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from harness import builders as b
from harness.dratest import DraTest, FarmControl

pytestmark = [
    pytest.mark.area("device-health"),
    pytest.mark.capability("health"),
    pytest.mark.needs_farm,
    pytest.mark.usefixtures("farm_exclusive"),
]
GPU_2 = 'device.attributes["drafarm.dev"].index == 2'
LOOP = "while true; do python3 -m fakedevices.client gpu-run --n 100 --check; sleep 0.5; done"


def _resource_status(dra: DraTest, pod: str) -> list[dict[str, Any]]:
    status = (dra.get("Pod", pod) or {}).get("status") or {}
    return [
        {**resource, "name": entry.get("name")}
        for container in status.get("containerStatuses") or []
        for entry in container.get("allocatedResourcesStatus") or []
        for resource in entry.get("resources") or []
    ]


def _first_cdi_id(dra: DraTest, claim_uid: str, device: str) -> str:
    [spec_path] = dra.cdi_specs_for(claim_uid)
    spec = json.loads(spec_path.read_text())
    names = [d["name"] for d in spec["devices"] if str(d["name"]).endswith(device)]
    assert names, f"CDI spec {spec_path} has no device for {device}: {spec}"
    return f"{spec['kind']}={names[0]}"


@pytest.mark.dra_gate("ResourceHealthStatus")
@pytest.mark.smoke
def test_unhealthy_device_shows_in_pod_status_and_fails_the_job(dra: DraTest, farm_control: FarmControl) -> None:
    claim = dra.claim("gpu", b.request("gpu", dra.device_class("gpu"), cel=GPU_2))
    dra.pod("job", LOOP, claims={"gpu": "gpu"}, on_node=dra.env.control_node)
    dra.wait.until(
        "pod job to run jobs on its GPU",
        lambda: any(line.get("ok") for line in dra.json_lines(dra.kube.logs("job", dra.ns))),
        180,
        pod="job",
    )
    [result] = dra.results("gpu")
    resource_id = _first_cdi_id(dra, claim["metadata"]["uid"], result["device"])

    changed = farm_control.set_health(result["device"], "unhealthy", "Xid 79: fell off the bus")
    assert result["device"] in changed, f"set-health on {result['device']} changed {changed}"

    def unhealthy() -> list[dict[str, Any]]:
        return [r for r in _resource_status(dra, "job") if r.get("health") == "Unhealthy"]

    [entry] = dra.wait.until("the pod's allocatedResourcesStatus to report Unhealthy", unhealthy, 120, pod="job")
    assert entry["resourceID"] == resource_id, (
        f"allocatedResourcesStatus names resource {entry['resourceID']!r}; the device's first CDI ID is {resource_id!r}"
    )
    assert str(entry["name"]).startswith("claim:gpu"), f"status entry {entry['name']!r} should name claim:gpu"

    def refused() -> dict[str, Any] | None:
        lines = dra.json_lines(dra.kube.logs("job", dra.ns))
        return next((line for line in lines if not line.get("ok")), None)

    failure = dra.wait.until("the GPU job to fail on the unhealthy device", refused, 60, pod="job")
    assert "unhealthy" in str(failure.get("error")), f"the job failed, but not because the GPU is unhealthy: {failure}"


FLAP_S = 60
MEMORY_GROWTH_LIMIT = 16 << 20


class HealthWatch:
    """The pod's reported health of its device, each change with when it was seen (polled every 0.2 s)."""

    def __init__(self, dra: DraTest, pod: str) -> None:
        self.changes: list[tuple[float, str | None]] = []
        self._dra, self._pod = dra, pod
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def now(self) -> str | None:
        return self.changes[-1][1] if self.changes else None

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                healths = [r.get("health") for r in _resource_status(self._dra, self._pod)]
            except Exception:
                healths = []
            health = str(healths[0]) if healths else None
            if health != self.now():
                self.changes.append((time.monotonic(), health))
            self._stop.wait(0.2)


@pytest.mark.dra_gate("ResourceHealthStatus")
def test_a_device_flapping_for_a_minute_is_followed_and_the_plugin_stays_flat(
    dra: DraTest, farm_control: FarmControl
) -> None:
    """Healthy and unhealthy every second for a minute: the pod's status keeps following (the health
    stream never stalls), it ends on the last state set, and the plugin's memory does not grow."""
    dra.claim("gpu", b.request("gpu", dra.device_class("gpu"), cel=GPU_2))
    dra.pod("job", "sleep 3600", claims={"gpu": "gpu"}, on_node=dra.env.control_node)
    dra.wait.until(
        "pod job to run with its device's health in its status",
        lambda: any(r.get("health") == "Healthy" for r in _resource_status(dra, "job")),
        180,
        pod="job",
    )
    [result] = dra.results("gpu")
    device = result["device"]
    memory_before = farm_control.control.status().resident_bytes

    with HealthWatch(dra, "job") as watch:
        started = time.monotonic()
        for second in range(FLAP_S):
            farm_control.set_health(device, "unhealthy" if second % 2 == 0 else "healthy", "flapping")
            time.sleep(max(0.0, started + second + 1 - time.monotonic()))  # poll: paces the flips, one a second
        flapped = [at for at, _ in watch.changes if at >= started]
        for final in ("unhealthy", "healthy"):
            farm_control.set_health(device, final, "settled")
            dra.wait.until(f"the pod's status to settle on {final}", _shows(watch, final.capitalize()), 30, pod="job")

    gaps = [later - earlier for earlier, later in zip([started, *flapped], [*flapped, started + FLAP_S], strict=True)]
    assert len(flapped) >= FLAP_S // 6, f"the pod's status changed {len(flapped)} times in {FLAP_S} flips"
    assert max(gaps) < 15, f"the pod's status stood still for {max(gaps):.1f} s while its device flapped"
    memory_after = farm_control.control.status().resident_bytes
    if memory_before is not None and memory_after is not None:
        grown = memory_after - memory_before
        assert grown < MEMORY_GROWTH_LIMIT, f"the plugin grew {grown >> 20} MiB over {FLAP_S} s of flapping"


def _shows(watch: HealthWatch, health: str) -> Callable[[], bool]:
    return lambda: watch.now() == health
