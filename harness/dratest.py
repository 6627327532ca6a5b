"""`dra`: one test's view of the cluster: its own namespace, the profile's classes and image, builders
that create objects there, and waiters whose timeouts explain themselves."""

from __future__ import annotations

import fnmatch
import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from fakedevices.plugin.control_client import PluginControl
from fakedevices.plugin.control_protocol import DEFAULT_FAILURE
from fakedevices.plugin.layout import CDI_SPEC_DIRS
from harness import builders
from harness.environment import DraEnvironment
from harness.kube import Kube
from harness.profile_model import MissingProfileKey, split_name
from harness.waiters import Waiter

NAMESPACED = {"Pod", "ResourceClaim", "ResourceClaimTemplate", "ReplicaSet"}


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
        try:
            return self.profile.device_class(role).name
        except MissingProfileKey as exc:
            pytest.skip(str(exc))

    def need(self, role: str, key: str) -> Any:
        """The profile's `deviceClasses.<role>.<key>`; skips the test, naming the key, when it is missing."""
        try:
            return self.profile.need(role, key)
        except MissingProfileKey as exc:
            pytest.skip(str(exc))

    def pick(self, role: str) -> str:
        """A CEL selector for the role's `pick` (skips the test when the profile gives none)."""
        self.need(role, "pick")
        return self.profile.pick_cel(role)

    def picked(self, role: str, device: Mapping[str, Any]) -> bool:
        """Whether a published device matches the role's `pick`."""
        pick: tuple[tuple[str, Any], ...] = self.need(role, "pick")
        return all(self.attribute_of(device, name) == value for name, value in pick)

    def attribute_of(self, device: Mapping[str, Any], name: str) -> Any:
        """A published device's attribute value by (qualified) name; None when it has none."""
        domain, ident = split_name(name, self.driver)
        attributes = device.get("attributes") or {}
        value = attributes.get(f"{domain}/{ident}")
        if value is None and domain == self.driver:
            value = attributes.get(ident)
        return None if value is None else next(iter(value.values()))

    def devices(self, pool: str | None = None) -> list[dict[str, Any]]:
        """The driver's published devices (of the highest generation of each pool), with `pool` added."""
        newest: dict[str, int] = {}
        slices = self.kube.items("ResourceSlice", fields={"spec.driver": self.driver})
        for slice_ in slices:
            name, generation = slice_["spec"]["pool"]["name"], int(slice_["spec"]["pool"]["generation"])
            newest[name] = max(newest.get(name, generation), generation)
        found = []
        for slice_ in slices:
            spec_pool = slice_["spec"]["pool"]
            if (pool is not None and spec_pool["name"] != pool) or int(spec_pool["generation"]) != newest[
                spec_pool["name"]
            ]:
                continue
            found += [{**d, "pool": spec_pool["name"]} for d in slice_["spec"].get("devices") or []]
        return found

    def cdi_specs_for(self, claim_uid: str) -> list[Path]:
        """CDI spec files on the node that mention the claim's UID (needs node access: local clusters)."""
        if not self.env.cdi_dirs:
            pytest.skip(
                "needs the node's CDI directories as this host reads them: "
                f"NODE_CDI_DIRS={','.join(map(str, CDI_SPEC_DIRS))} "
                "(--drafarm-node-cdi-dir); drafarm's own clusters give them"
            )
        found = []
        specs = [p for d in self.env.cdi_dirs for p in (*d.glob("*.json"), *d.glob("*.yaml"))]
        for path in specs:
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
        on_node: str | None = None,
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
                node_selector={"kubernetes.io/hostname": on_node} if on_node else None,
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
        value = self.attribute_of(self.device(pool, device), name)
        if value is None:
            raise AssertionError(f"device {pool}/{device} of {self.driver} publishes no attribute {name!r}")
        return value

    def env_values(self, logs: str, pattern: str) -> dict[str, str]:
        """The `NAME=value` lines of `env` output whose name matches the glob `pattern`."""
        pairs = (line.split("=", 1) for line in logs.splitlines() if "=" in line)
        return {k: v for k, v in pairs if fnmatch.fnmatchcase(k, pattern)}

    def env_script(self, pattern: str) -> str:
        """A script that prints the container's env vars matching the glob `pattern` (and nothing else)."""
        return f"env | grep -E '^{pattern.replace('*', '[^=]*')}=' | sort || true"

    @staticmethod
    def json_lines(logs: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in logs.splitlines() if line.startswith("{")]


class FarmControl:
    """The built-in farm's fault control, for suites that inject faults (health)."""

    def __init__(self, control: PluginControl, namespace: str) -> None:
        self.control = control
        self.namespace = namespace
        self._touched: set[str] = set()

    def set_health(self, device: str, health: str, reason: str = "") -> list[str]:
        self._touched.add(device)
        return self.control.set_health(device, health, reason)

    def fail_prepares(self, count: int = 1, *, permanent: bool = False, message: str = DEFAULT_FAILURE) -> None:
        self.control.fail_prepares(count, permanent=permanent, message=message, namespace=self.namespace)

    def kill_plugin(self) -> None:
        self.control.kill()

    def restore(self) -> None:
        """Undo this test's faults: devices healthy again, prepare faults cleared if they were ours."""
        for device in self._touched:
            self.control.set_health(device, "healthy")
        faults = self.control.status().faults
        if faults is not None and faults.namespace == self.namespace:
            self.control.clear()
