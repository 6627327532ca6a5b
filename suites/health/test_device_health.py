"""An unhealthy device shows in the pod's status (KEP-4680) and in the workload that uses it."""

from __future__ import annotations

import json
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
    dra.pod("job", LOOP, claims={"gpu": "gpu"})
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
