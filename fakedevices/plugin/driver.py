"""The node driver: prepares and unprepares claims on the farm's emulated devices, crash-safely.

Order of prepare, so a crash at any point is repaired by a retry or a restart: open emulator sessions,
write the CDI spec, checkpoint, answer. A restart re-opens the checkpointed sessions and removes CDI
specs that no checkpointed claim owns.

Other instances of the node's plugin may serve the same state dir (an upgrade): each claim's prepare and
unprepare holds the claim's lock and reads its checkpoint file again (`state_lock.py`, `checkpoint.py`),
so the last word is the checkpoint's, whichever instance the kubelet asks. Each instance opens the
sessions of every checkpointed claim in its own emulators (`open_sessions.py`), so containers keep their
devices whichever instance stays, and the one that stays binds again what the one that left had bound
(`take_over`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from fakedevices.emulator.base import Emulator
from fakedevices.emulator.errors import EmulatorError
from fakedevices.emulator.health import Health
from fakedevices.emulator.runner import EmulatorRunner
from fakedevices.kinds import registry
from fakedevices.plugin.api import ClaimRef, DeviceHealthReport, PrepareOutcome
from fakedevices.plugin.card_emulators import RemoteNetworkDevices, card_emulator
from fakedevices.plugin.cdi_specs import CdiDevice, CdiSpecs
from fakedevices.plugin.checkpoint import Checkpoint, CheckpointCorrupt, PreparedClaim, PreparedDevice
from fakedevices.plugin.claim_cache import ClaimCache
from fakedevices.plugin.claim_refs import claim_ref_problem
from fakedevices.plugin.claims import AllocatedClaim, AllocationResult, ClaimError, read_allocated_claim
from fakedevices.plugin.container_devices import ContainerDevices, Grant, SessionRefused
from fakedevices.plugin.faults import Faults
from fakedevices.plugin.inventory import NodeInventory
from fakedevices.plugin.layout import PluginLayout
from fakedevices.plugin.metrics import METRICS
from fakedevices.plugin.open_sessions import OpenSessions
from fakedevices.plugin.retry_loop import RetryLoop
from fakedevices.plugin.state_lock import StateLock
from fakedevices.spec.problems import SpecError

log = logging.getLogger(__name__)

_CACHE_READS = METRICS.claim_reads.labels("cache")
_API_READS = METRICS.claim_reads.labels("api")

RETRY_S = 2.0
"""How often sessions a restore could not open (their device host down) are tried again."""


class ClaimReader(Protocol):
    def get(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        """The claim as the API server returns it (JSON), or None when it does not exist."""
        ...


class NodeDriver:
    def __init__(
        self,
        inventory: NodeInventory,
        claims: ClaimReader,
        layout: PluginLayout,
        *,
        faults: Faults | None = None,
        own_addresses: bool = False,
        remote_network: RemoteNetworkDevices | None = None,
        cache: ClaimCache | None = None,
    ) -> None:
        """`own_addresses`: network-placed devices served here listen on their own addresses;
        `remote_network`: they are served by device hosts instead (`card_emulators.py`)."""
        if layout.driver != inventory.farm.driver:
            raise ValueError(f"the layout is for driver {layout.driver}, the farm's driver is {inventory.farm.driver}")
        self.inventory = inventory
        self.driver = inventory.farm.driver
        self.layout = layout
        self.claims = claims
        self.cache = cache
        self.faults = faults or Faults()
        self.lock = StateLock(layout.state_lock, layout.claim_locks_dir)
        with self.lock.exclusive():  # both clean up after a crash: not while another instance writes
            self.cdi = CdiSpecs(layout)
            self.checkpoint = Checkpoint(layout.checkpoint_dir)
        self.runner = EmulatorRunner(layout.emulators_dir)
        self.devices = ContainerDevices(inventory, self.runner, self.cdi)
        self.sessions = OpenSessions(self.devices, self.checkpoint, self.lock)
        self._health_changed = threading.Condition()
        self._health_generation = 0
        for _pool, card in inventory.cards():
            emulator = card_emulator(card, self.runner.state_dir, own_addresses=own_addresses, remote=remote_network)
            emulator.add_health_listener(self._on_health)
            self.runner.add(emulator)
        self._retries = RetryLoop(
            "plugin-session-retry", lambda: bool(self.sessions.incomplete()), self.retry_incomplete, RETRY_S
        )

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Serve every checkpointed claim, and take every socket of the emulators: the newest instance
        serves them all (it is the one the kubelet calls)."""
        with self.lock.exclusive():
            self.runner.start()
            self._restore()
            self._take_sockets()
        self._retries.start()

    def stop(self) -> None:
        self._retries.stop()  # before the lock: a retry holds a claim's lock
        with self.lock.exclusive():  # another instance may be binding a socket file this one would remove
            self.runner.stop()

    def take_over(self) -> None:
        """After another instance serving the state dir left: serve every checkpointed claim's sessions
        here, bind again the socket files it had bound, and point every CDI spec at this process."""
        with self.lock.exclusive():
            self._restore()
            rebound = self._take_sockets()
        log.info("took over from a plugin instance that left: %d socket(s) bound again", rebound)

    def _take_sockets(self) -> int:
        """Bind every emulator socket another instance serves (or none does); how many."""
        return sum(emulator.reclaim_sockets() for emulator in self.runner.emulators)

    def sockets_held(self) -> list[Path]:
        """The emulators' socket files this process bound and no other instance has bound since."""
        return [path for emulator in self.runner.emulators for path in emulator.sockets_held()]

    def open_connections(self) -> int:
        """How many container connections to the emulators' unix sockets are open now."""
        return sum(emulator.open_connections() for emulator in self.runner.emulators)

    def device_sockets_taken(self) -> bool:
        """Whether another instance bound an emulator's whole-device socket (every instance does at its start)."""
        return any(emulator.device_socket_taken() for emulator in self.runner.emulators)

    def _restore(self) -> None:
        """After a restart (or another instance leaving): re-open every checkpointed claim's sessions and
        re-write its CDI spec; close sessions of claims no longer checkpointed; remove CDI specs and
        session directories no checkpointed claim owns (left by a crash between writing one and
        checkpointing). Called with the state dir locked."""
        claims = self.checkpoint.claims()
        owned = {claim.uid for claim in claims}
        for uid in self.sessions.uids() - owned:
            self.sessions.close(uid)
        for claim in claims:
            self._reopen(claim)
        for uid in self.cdi.existing_claims():
            if uid not in owned:
                log.warning("removing CDI spec of claim %s: no checkpoint entry (left by a crash)", uid)
                self.cdi.remove(uid)
        for emulator in self.runner.emulators:
            emulator.remove_unused_session_dirs()
        METRICS.prepared.set(len(owned))

    def _reopen(self, claim: PreparedClaim) -> None:
        """Open a checkpointed claim's sessions and write its CDI spec again, unless a session did not open
        (its spec on disk is left as prepare wrote it: the device's endpoint is the same once it opens)."""
        cdi_devices = self.sessions.open(claim)
        if self.sessions.complete(claim.uid) and not self.faults.snapshot().skip_cdi_spec:
            self.cdi.write(claim.uid, cdi_devices)

    def retry_incomplete(self) -> int:
        """Open again the sessions of claims the restore could not open completely; how many are complete now."""
        done = 0
        for uid in self.sessions.incomplete():
            with self.lock.claim(uid):
                claim = self.checkpoint.refresh(uid)
                if claim is None:
                    self.sessions.forget(uid)
                    continue
                self._reopen(claim)
                if self.sessions.complete(uid):
                    log.info("re-opened every session of claim %s/%s", claim.namespace, claim.name)
                    done += 1
        return done

    def sync_with_peers(self) -> tuple[int, int]:
        """While other instances serve the state dir: see `OpenSessions.sync`."""
        return self.sessions.sync()

    # ---- prepare ---------------------------------------------------------------------------------
    def prepare(self, claims: Sequence[ClaimRef]) -> dict[str, PrepareOutcome]:
        out: dict[str, PrepareOutcome] = {}
        for ref in claims:
            if (problem := claim_ref_problem(ref)) is not None:
                out[ref.uid] = PrepareOutcome(error=problem)
                continue
            try:
                out[ref.uid] = self._prepare_locked(ref)
            except SessionRefused as exc:
                out[ref.uid] = self._retried(ref, exc)
        METRICS.prepared.set(len(self.checkpoint))
        return out

    def _retried(self, ref: ClaimRef, refused: SessionRefused) -> PrepareOutcome:
        """A session of a claim another instance unprepared may still hold the device here: once those are
        closed, the prepare gets one more try."""
        if not self.sessions.close_unprepared():
            return self._failed(ref, refused)
        try:
            return self._prepare_locked(ref)
        except SessionRefused as exc:
            return self._failed(ref, exc)

    def _prepare_locked(self, ref: ClaimRef) -> PrepareOutcome:
        """The claim's outcome; `SessionRefused` is left to the caller."""
        with self.lock.claim(ref.uid):
            try:
                return PrepareOutcome(devices=self._prepare_one(ref))
            except SessionRefused:
                raise
            except (ClaimError, SpecError, EmulatorError, ValueError) as exc:
                return self._failed(ref, exc)
            except OSError as exc:
                log.error("prepare %s/%s (%s) failed: %s", ref.namespace, ref.name, ref.uid, exc)
                message = (
                    f"claim {ref.namespace}/{ref.name}: the plugin could not write its state ({exc}); "
                    "free space or fix permissions in its state and CDI directories, the kubelet retries"
                )
                return PrepareOutcome(error=_one_line(message))

    @staticmethod
    def _failed(ref: ClaimRef, exc: Exception) -> PrepareOutcome:
        log.warning("prepare %s/%s (%s) failed: %s", ref.namespace, ref.name, ref.uid, exc)
        return PrepareOutcome(error=_one_line(str(exc)))

    def _prepare_one(self, ref: ClaimRef) -> tuple[PreparedDevice, ...]:
        where = f"claim {ref.namespace}/{ref.name}"
        existing = self.checkpoint.refresh(ref.uid)
        if existing is not None:
            if not self.sessions.holds(ref.uid):
                self.sessions.open(existing)  # prepared by another instance: its containers may come to this one
            return existing.devices
        self.faults.before_prepare(where, ref.namespace)
        obj = self._read_claim(ref)
        if obj is None:
            raise ClaimError(f"{where} (UID {ref.uid}) does not exist in the API server; it was deleted")
        allocated = read_allocated_claim(obj, self.driver, list(self.inventory.pools), ref.uid)
        self._check_configs(allocated, where)
        opened: list[tuple[PreparedDevice, CdiDevice]] = []
        try:
            for result in allocated.results:
                opened.append(self.devices.attach(ref.uid, self._grant(allocated, result, where), where))
            devices = tuple(d for d, _ in opened)
            if self.faults.snapshot().skip_cdi_spec:
                spec_path = str(self.cdi.path_for(ref.uid))
            else:
                spec_path = self.cdi.write(ref.uid, [c for _, c in opened])
            self.checkpoint.put(PreparedClaim(ref.uid, ref.namespace, ref.name, spec_path, devices))
        except BaseException:
            for device, _ in opened:
                self.devices.detach(ref.uid, device)
            self.cdi.remove(ref.uid)
            raise
        self.sessions.opened(ref.uid, devices)
        return devices

    def _read_claim(self, ref: ClaimRef) -> Mapping[str, Any] | None:
        """From the watch's cache when it has the claim at that UID, else from the API server."""
        if self.cache is not None:
            cached = self.cache.lookup(ref.namespace, ref.name, ref.uid)
            if cached is not None:
                _CACHE_READS.inc()
                return cached
        _API_READS.inc()
        return self.claims.get(ref.namespace, ref.name)

    def _check_configs(self, claim: AllocatedClaim, where: str) -> None:
        known = [k.config_kind for k in registry.all_kinds()]
        for config in claim.unknown_configs(known):
            kind = config.parameters.get("kind") if isinstance(config.parameters, Mapping) else None
            raise ClaimError(
                f"{where}: config[{config.index}] ({config.source}) for {self.driver} has kind {kind!r}; "
                f"use one of {', '.join(known)} with apiVersion drafarm.dev/v1alpha1"
            )

    def _grant(self, claim: AllocatedClaim, result: AllocationResult, where: str) -> Grant:
        """The result with the opaque config that applies to it (admin access takes none)."""
        parameters = None
        if not result.admin_access:
            device = self.devices.published(result.pool, result.device, result.request, where)
            chosen = claim.config_for(result.request, registry.get(device.kind).config_kind)
            parameters = chosen.parameters if chosen is not None else None
        return Grant(
            result.request,
            result.pool,
            result.device,
            parameters,
            result.consumed_capacity,
            result.share_id,
            result.admin_access,
        )

    # ---- unprepare -------------------------------------------------------------------------------
    def unprepare(self, claims: Sequence[ClaimRef]) -> dict[str, str]:
        out: dict[str, str] = {}
        for ref in claims:
            if (problem := claim_ref_problem(ref)) is not None:
                out[ref.uid] = problem
                continue
            with self.lock.claim(ref.uid):
                try:
                    self._unprepare_one(ref.uid)
                    out[ref.uid] = ""
                except (OSError, EmulatorError, CheckpointCorrupt) as exc:
                    out[ref.uid] = f"claim {ref.namespace}/{ref.name}: unprepare failed: {exc}"
        METRICS.prepared.set(len(self.checkpoint))
        return out

    def _unprepare_one(self, uid: str) -> None:
        claim = self.checkpoint.refresh(uid)
        self.sessions.close(uid, claim.devices if claim is not None else ())
        if self.faults.snapshot().leak_on_unprepare:
            return
        self.cdi.remove(uid)
        self.checkpoint.remove(uid)

    # ---- health ----------------------------------------------------------------------------------
    def _on_health(self, emulator: Emulator[Any], health: Health, reason: str) -> None:
        with self._health_changed:
            self._health_generation += 1
            self._health_changed.notify_all()

    def health_snapshot(self) -> tuple[int, list[DeviceHealthReport]]:
        with self._health_changed:
            generation = self._health_generation
        reports = []
        for pool, device in self.inventory.devices():
            emulator = self.runner.get(device.physical)
            reports.append(
                DeviceHealthReport(pool, device.name, emulator.health.dra_value, int(emulator.health_changed_at))
            )
        return generation, reports

    def wait_health_change(self, generation: int, timeout: float) -> int:
        with self._health_changed:
            self._health_changed.wait_for(lambda: self._health_generation != generation, timeout)
            return self._health_generation

    def set_health(self, device_or_card: str, health: str, reason: str = "") -> list[str]:
        """Mark a card (and so every device it backs) healthy/unhealthy/unknown; returns the devices."""
        names = [d.name for _, d in self.inventory.devices() if device_or_card in (d.name, d.physical)]
        cards = {d.physical for _, d in self.inventory.devices() if d.name in names}
        if not cards:
            known = ", ".join(sorted({d.physical for _, d in self.inventory.devices()}))
            raise ValueError(f"no device {device_or_card!r} on node {self.inventory.node.name}; devices: {known}")
        for card in cards:
            self.runner.get(card).set_health(Health.parse(health), reason)
        return names


def _one_line(text: str) -> str:
    return " ".join(text.split())
