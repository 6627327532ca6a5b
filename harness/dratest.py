"""`dra`: one test's view of the cluster: its own namespace, the profile's classes and image, builders
that create objects there, and waiters whose timeouts explain themselves."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from fakedevices.plugin.control_client import call
from harness import builders
from harness.environment import DraEnvironment
from harness.kube import Kube
from harness.waiters import Waiter

NAMESPACED = {"Pod", "ResourceClaim", "ResourceClaimTemplate"}


class DraTest:
    def __init__(self, env: DraEnvironment, namespace: str) -> None:
        self.env = env
        self.kube: Kube = env.kube
        self.ns = namespace
        self.profile = env.profile
        self.driver = env.profile.driver
        self.wait = Waiter(self.kube, namespace, plugin_log=env.plugin_log_tail)
        self._seen_allocations: dict[str, dict[str, Any]] = {}

    # ---- objects ---------------------------------------------------------------------------------
    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        if obj["kind"] in NAMESPACED:
            obj = {**obj, "metadata": {**obj["metadata"], "namespace": self.ns}}
        return self.kube.create(obj)

    def device_class(self, role: str = "device") -> str:
        """The profile's DeviceClass name for `role` (created by the session); skips the test when the
        profile has no class for that role."""
        if role not in self.profile.classes:
            pytest.skip(f"driver profile {self.profile.name!r} has no device class for role {role!r}")
        return self.profile.device_class(role).name

    def cdi_specs_for(self, claim_uid: str) -> list[Path]:
        """CDI spec files on the node that mention the claim's UID (needs node access: local clusters)."""
        if self.env.cdi_dir is None:
            pytest.skip("needs access to the node's CDI directory (local cluster)")
        found = []
        for path in [*self.env.cdi_dir.glob("*.json"), *self.env.cdi_dir.glob("*.yaml")]:
            try:
                if claim_uid in path.read_text(errors="replace"):
                    found.append(path)
            except OSError:
                continue
        return found

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:6]}"

    def claim(self, name: str, *requests: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self.create(builders.claim(name, *requests, **kwargs))

    def template(self, name: str, *requests: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self.create(builders.claim_template(name, *requests, **kwargs))

    def pod(
        self,
        name: str,
        script: str,
        *,
        claims: Mapping[str, str] | None = None,
        templates: Mapping[str, str] | None = None,
        uses: Sequence[str | tuple[str, str]] | None = None,
        extra_containers: Sequence[Mapping[str, Any]] = (),
        node_name: str | None = None,
        tolerations: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """A pod whose container runs `script` (sh -c) with the given pod claims; `uses` picks which claims
        (or (claim, request) pairs) the container references, by default all of them."""
        refs: Sequence[str | tuple[str, str]] = uses if uses is not None else [*(claims or {}), *(templates or {})]
        main = builders.container("main", ["sh", "-c", script], claims=refs)
        return self.create(
            builders.pod(
                name,
                main,
                *extra_containers,
                claims=claims,
                templates=templates,
                image=self.env.image,
                node_name=node_name,
                tolerations=tolerations,
            )
        )

    def run(self, name: str, script: str, timeout: float = 120, **kwargs: Any) -> str:
        """Run a pod to completion; its logs, or an assertion error with diagnostics.

        A claim is deallocated once its last pod finishes, so the allocations of the pod's claims are
        recorded while it runs: `results()` returns them afterwards.
        """
        self.pod(name, script, **kwargs)

        def finished() -> str | None:
            self._remember_allocations(name)
            phase = ((self.get("Pod", name) or {}).get("status") or {}).get("phase")
            return phase if phase in ("Succeeded", "Failed") else None

        self.wait.until(f"pod {self.ns}/{name} to finish", finished, timeout, pod=name)
        return self.wait.pod_succeeded(name, timeout=5)

    def _remember_allocations(self, pod: str) -> None:
        obj = self.get("Pod", pod) or {}
        names = [c.get("resourceClaimName") for c in (obj.get("spec") or {}).get("resourceClaims") or []]
        names += [c.get("resourceClaimName") for c in (obj.get("status") or {}).get("resourceClaimStatuses") or []]
        for claim in filter(None, names):
            live = self._live_allocation(str(claim))
            if live:
                self._seen_allocations[str(claim)] = live

    def proof_script(self, then: str = "") -> str:
        """The profile's proof that the container got its device; with `then`, that script runs after
        it (whatever the proof found) instead of the proof's exit."""
        if then:
            return self.profile.proof.shell_check(exit_at_end=False) + "\n" + then
        return self.profile.proof.shell_check()

    # ---- reading state ---------------------------------------------------------------------------
    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        return self.kube.get(kind, name, self.ns if kind in NAMESPACED else None)

    def allocation(self, claim_name: str) -> dict[str, Any]:
        """The claim's allocation: live, or as last seen while a pod of `run()` used it (a claim is
        deallocated when its last pod finishes)."""
        return self._live_allocation(claim_name) or self._seen_allocations.get(claim_name, {})

    def results(self, claim_name: str) -> list[dict[str, Any]]:
        return list((self.allocation(claim_name).get("devices") or {}).get("results") or [])

    def _live_allocation(self, claim_name: str) -> dict[str, Any]:
        claim = self.get("ResourceClaim", claim_name) or {}
        return dict((claim.get("status") or {}).get("allocation") or {})

    def pod_claim_name(self, pod: str, pod_claim: str) -> str:
        obj = self.get("Pod", pod) or {}
        for status in (obj.get("status") or {}).get("resourceClaimStatuses") or []:
            if status.get("name") == pod_claim and status.get("resourceClaimName"):
                return str(status["resourceClaimName"])
        raise AssertionError(f"pod {pod} has no generated claim for {pod_claim!r}: {obj.get('status')}")

    def device(self, pool: str, name: str) -> dict[str, Any]:
        """The published device (from the driver's ResourceSlices)."""
        for slice_ in self.kube.items("ResourceSlice", fields={"spec.driver": self.driver}):
            if slice_["spec"]["pool"]["name"] != pool:
                continue
            for device in slice_["spec"].get("devices") or []:
                if device["name"] == name:
                    return dict(device)
        raise AssertionError(f"no device {pool}/{name} in {self.driver}'s ResourceSlices")

    def attribute(self, pool: str, device: str, name: str) -> Any:
        value = self.device(pool, device)["attributes"][name]
        return next(iter(value.values()))

    @staticmethod
    def json_lines(logs: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in logs.splitlines() if line.startswith("{")]


class FarmControl:
    """The built-in farm's fault control, for suites that inject faults (health)."""

    def __init__(self, socket: Path, namespace: str) -> None:
        self.socket = socket
        self.namespace = namespace
        self._touched: set[str] = set()

    def set_health(self, device: str, health: str, reason: str = "") -> list[str]:
        self._touched.add(device)
        response = call(self.socket, {"op": "set-health", "device": device, "health": health, "reason": reason})
        return list(response["devices"])

    def fail_prepares(
        self, count: int = 1, *, permanent: bool = False, message: str = "injected prepare failure"
    ) -> None:
        call(
            self.socket,
            {
                "op": "fail-prepares",
                "count": count,
                "permanent": permanent,
                "message": message,
                "namespace": self.namespace,
            },
        )

    def kill_plugin(self) -> None:
        call(self.socket, {"op": "kill"})

    def restore(self) -> None:
        """Undo this test's faults: devices healthy again, prepare faults cleared if they were ours."""
        for device in self._touched:
            call(self.socket, {"op": "set-health", "device": device, "health": "healthy"})
        status = call(self.socket, {"op": "status"})
        if status["faults"].get("namespace") == self.namespace:
            call(self.socket, {"op": "clear"})
