"""One claim, several users: two containers of a pod and two pods share the claim's device."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = [pytest.mark.area("shared-claims")]
HOLD = "echo drafarm-holding; sleep 600"


def _proof_env(dra: DraTest, logs: str) -> list[str]:
    """The proof's env lines (`NAME=value`) a container printed: what identifies the device it got."""
    patterns = dra.profile.proof.env
    if not patterns:
        pytest.skip(f"driver profile {dra.profile.name!r} names no proof env vars to compare between users")
    return sorted(
        line
        for line in logs.splitlines()
        if "=" in line and any(fnmatch.fnmatchcase(line.split("=", 1)[0], p) for p in patterns)
    )


def _name_of(dra: DraTest, result: dict[str, Any]) -> str | None:
    """The value the profile's deviceEnv says a container sees for this device (None: no such key)."""
    env = dra.profile.device_class("gpu").device_env
    if env is None:
        return None
    return str(dra.attribute(result["pool"], result["device"], env.attribute))


def _wait_holding(dra: DraTest, pod: str) -> None:
    dra.wait.until(
        f"pod {pod} to show its device", lambda: "drafarm-holding" in dra.kube.logs(pod, dra.ns), 180, pod=pod
    )


def _gpu_request(dra: DraTest) -> dict[str, Any]:
    return b.request("gpu", dra.device_class("gpu"))


@pytest.mark.smoke
def test_two_containers_of_a_pod_see_the_same_device(dra: DraTest) -> None:
    dra.claim("shared", _gpu_request(dra))
    second = b.container("second", ["sh", "-c", dra.proof_script()], claims=["gpu"])
    dra.run("pair", dra.proof_script(), claims={"gpu": "shared"}, extra_containers=[second], timeout=180)
    [result] = dra.results("shared")
    main = dra.kube.logs("pair", dra.ns, container="main")
    other = dra.kube.logs("pair", dra.ns, container="second")
    assert "drafarm-proof-ok" in main and "drafarm-proof-ok" in other, (
        f"a container of the pod did not get the shared claim's device:\nmain:\n{main}\nsecond:\n{other}"
    )
    seen_main, seen_other = _proof_env(dra, main), _proof_env(dra, other)
    assert seen_main, f"container main shows none of the proof env vars {dra.profile.proof.env}:\n{main}"
    assert seen_main == seen_other, (
        f"the two containers of one pod see different devices for one claim:\nmain: {seen_main}\nsecond: {seen_other}"
    )
    name = _name_of(dra, result)
    if name is not None:
        assert any(line.endswith(f"={name}") for line in seen_main), (
            f"the containers do not see {name} of the allocated device {result['device']}: {seen_main}"
        )


def test_two_pods_see_the_same_device(dra: DraTest) -> None:
    dra.claim("shared", _gpu_request(dra))
    for pod in ("one", "two"):
        dra.pod(pod, dra.proof_script(then=HOLD), claims={"gpu": "shared"})
    for pod in ("one", "two"):
        _wait_holding(dra, pod)
    claim = dra.get("ResourceClaim", "shared") or {}
    reserved = sorted(r["name"] for r in (claim.get("status") or {}).get("reservedFor") or [])
    assert reserved == ["one", "two"], f"claim shared is reserved for {reserved}, not for both pods"
    [result] = dra.results("shared")
    one, two = (dra.kube.logs(p, dra.ns) for p in ("one", "two"))
    seen_one, seen_two = _proof_env(dra, one), _proof_env(dra, two)
    assert seen_one, f"pod one shows none of the proof env vars {dra.profile.proof.env}:\n{one}"
    assert seen_one == seen_two, f"two pods sharing one claim see different devices:\none: {seen_one}\ntwo: {seen_two}"
    name = _name_of(dra, result)
    if name is not None:
        assert any(line.endswith(f"={name}") for line in seen_one), (
            f"the pods do not see {name} of the allocated device {result['device']}: {seen_one}"
        )
