"""Prepare and unprepare through the real kubelet: the container sees the device, CDI specs come and go."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest
from harness.waiters import WaitTimeout

pytestmark = pytest.mark.area("prepare")
HOLD = "echo drafarm-holding; sleep 600"
PREPARE_ATTEMPTS = 3
"""The kubelet retries a failed prepare with backoff: one failure may be a driver restarting, three are not."""


def _cdi_failure(dra: DraTest, pod: str) -> str:
    """A container the runtime could not create because of the CDI devices prepare returned."""
    for event in dra.kube.events(dra.ns, pod):
        message = str(event.get("message", ""))
        if event.get("reason") != "FailedPrepareDynamicResources" and ("CDI" in message or "cdi" in message):
            return message
    return ""


def _prepare_failure(dra: DraTest, pod: str) -> str:
    for event in dra.kube.events(dra.ns, pod):
        if event.get("reason") == "FailedPrepareDynamicResources" and int(event.get("count") or 1) >= PREPARE_ATTEMPTS:
            return str(event.get("message", ""))
    return ""


def _run_holding(dra: DraTest, pod: str, claim: str) -> None:
    dra.pod(pod, dra.proof_script(then=HOLD), claims={"dev": claim})

    def holding_or_failure() -> bool:
        logs = dra.kube.logs(pod, dra.ns)
        return "drafarm-holding" in logs or bool(_cdi_failure(dra, pod)) or bool(_prepare_failure(dra, pod))

    dra.wait.until(f"pod {pod} to show its device", holding_or_failure, 120, pod=pod)
    failed = _prepare_failure(dra, pod)
    if failed:
        raise AssertionError(
            f"the kubelet's NodePrepareResources call failed {PREPARE_ATTEMPTS} times for pod {pod}'s claim: "
            f"{failed}\nthe driver must prepare every device the scheduler allocated from its slices"
        )
    cdi = _cdi_failure(dra, pod)
    if cdi:
        raise AssertionError(
            f"the container runtime could not inject the CDI devices the driver returned from prepare: {cdi}\n"
            "the driver must write a CDI spec for every CDI ID it returns"
        )
    logs = dra.kube.logs(pod, dra.ns)
    assert "drafarm-proof-ok" in logs, f"the container does not show its device:\n{logs}"


@pytest.mark.smoke
def test_container_sees_its_device_and_cdi_spec_exists_until_unprepare(dra: DraTest) -> None:
    claim = dra.claim("dev", b.request("dev", dra.device_class()))
    _run_holding(dra, "holder", "dev")
    uid = claim["metadata"]["uid"]
    specs = dra.cdi_specs_for(uid)
    assert specs, f"no CDI spec on the node names claim {uid} while its pod runs"
    dra.kube.delete("Pod", "holder", dra.ns, grace=0)
    try:
        dra.wait.until(f"CDI specs of claim {uid} to be removed", lambda: not dra.cdi_specs_for(uid), 30)
    except WaitTimeout as exc:
        raise AssertionError(
            f"CDI spec(s) {[str(p) for p in dra.cdi_specs_for(uid)]} of claim {uid} still exist 30 s after its "
            "last pod went away: the driver leaks CDI specs on unprepare"
        ) from exc


def test_prepare_again_after_unprepare_is_harmless(dra: DraTest) -> None:
    dra.claim("dev", b.request("dev", dra.device_class()))
    first = dra.run("first", dra.proof_script(), claims={"dev": "dev"})
    dra.kube.delete("Pod", "first", dra.ns, grace=0)
    dra.wait.gone("Pod", "first")
    second = dra.run("second", dra.proof_script(), claims={"dev": "dev"})
    assert "drafarm-proof-ok" in first and "drafarm-proof-ok" in second


def test_one_claim_two_pods_at_once(dra: DraTest) -> None:
    dra.claim("dev", b.request("dev", dra.device_class()))
    _run_holding(dra, "one", "dev")
    _run_holding(dra, "two", "dev")
    reserved = (dra.get("ResourceClaim", "dev") or {}).get("status", {}).get("reservedFor") or []
    assert sorted(r["name"] for r in reserved) == ["one", "two"]
