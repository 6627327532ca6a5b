"""The claims whose emulator sessions this process has open, kept in step with the checkpoint that other
instances of the node's plugin serving the same state dir change too (an upgrade).

Every instance opens the sessions of every checkpointed claim in its own emulators, so a container finds
its device whichever instance stays; `sync` opens those of claims another instance prepared and closes
those of claims it unprepared. Each claim is looked at under its lock, against its checkpoint file.

A claim whose sessions could not all be re-opened (a network device whose host is down) is *incomplete*:
not held, so a prepare or a sync tries again, and the driver retries it every few seconds
(`NodeDriver.retry_incomplete`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence

from fakedevices.emulator.errors import EmulatorError
from fakedevices.plugin.cdi_specs import CdiDevice
from fakedevices.plugin.checkpoint import Checkpoint, PreparedClaim, PreparedDevice
from fakedevices.plugin.claims import ClaimError
from fakedevices.plugin.container_devices import ContainerDevices, Grant
from fakedevices.plugin.state_lock import StateLock
from fakedevices.spec.problems import SpecError

log = logging.getLogger(__name__)


class OpenSessions:
    def __init__(self, devices: ContainerDevices, checkpoint: Checkpoint, lock: StateLock) -> None:
        self.devices = devices
        self.checkpoint = checkpoint
        self.lock = lock
        self._claims: dict[str, tuple[PreparedDevice, ...]] = {}
        self._incomplete: set[str] = set()
        self._guard = threading.Lock()

    def open(self, claim: PreparedClaim) -> list[CdiDevice]:
        """Open (or re-open) a checkpointed claim's sessions here; its CDI devices (those that opened: see
        `complete`)."""
        where = f"claim {claim.namespace}/{claim.name}"
        cdi_devices = []
        for device in claim.devices:
            try:
                cdi_devices.append(self.devices.attach(claim.uid, Grant.of(device), where)[1])
            except (EmulatorError, ClaimError, SpecError, ValueError) as exc:
                log.error("could not re-open %s for claim %s: %s", device.device, claim.uid, exc)
        if len(cdi_devices) == len(claim.devices):
            self.opened(claim.uid, claim.devices)
        else:
            with self._guard:
                self._claims.pop(claim.uid, None)
                self._incomplete.add(claim.uid)
        return cdi_devices

    def complete(self, uid: str) -> bool:
        """Whether the claim's last `open` opened every session."""
        with self._guard:
            return uid not in self._incomplete

    def incomplete(self) -> set[str]:
        with self._guard:
            return set(self._incomplete)

    def forget(self, uid: str) -> None:
        """Stop retrying a claim that is no longer checkpointed."""
        with self._guard:
            self._incomplete.discard(uid)

    def opened(self, uid: str, devices: tuple[PreparedDevice, ...]) -> None:
        """Record sessions a prepare opened."""
        with self._guard:
            self._claims[uid] = devices
            self._incomplete.discard(uid)

    def close(self, uid: str, devices: Sequence[PreparedDevice] = ()) -> None:
        """Close the claim's sessions here: `devices`, or those recorded for it."""
        with self._guard:
            recorded = self._claims.pop(uid, ())
            self._incomplete.discard(uid)
        for device in devices or recorded:
            self.devices.detach(uid, device)

    def holds(self, uid: str) -> bool:
        with self._guard:
            return uid in self._claims

    def uids(self) -> set[str]:
        with self._guard:
            return set(self._claims)

    def sync(self) -> tuple[int, int]:
        """Open the sessions of claims other instances prepared, close those of claims they unprepared; how
        many claims were opened and closed."""
        on_disk = {claim.uid for claim in self.checkpoint.claims()}
        opened = 0
        for uid in on_disk - self.uids():
            with self.lock.claim(uid):
                claim = self.checkpoint.refresh(uid)
                if claim is not None and not self.holds(uid):
                    self.open(claim)
                    opened += 1
        closed = sum(self._close_if_unprepared(uid) for uid in self.uids() - on_disk)
        return opened, closed

    def close_unprepared(self) -> bool:
        """Close the sessions of every claim another instance unprepared; whether there was one."""
        gone = [uid for uid in self.uids() if not os.path.exists(self.checkpoint.path_for(uid))]
        return sum(self._close_if_unprepared(uid) for uid in gone) > 0

    def _close_if_unprepared(self, uid: str) -> bool:
        with self.lock.claim(uid):
            if not self.holds(uid) or self.checkpoint.refresh(uid) is not None:
                return False
            self.close(uid)
            return True
