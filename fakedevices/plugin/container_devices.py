"""What a container gets for a device its claim was given: an emulator session (or, for admin access, only
the device's identity), the CDI device with its edits, and the record the checkpoint keeps of it.

Prepare and the restore after a restart both go through `attach`: a restart re-opens each checkpointed
session (opening is idempotent) and so rebuilds the very CDI devices that prepare wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fakedevices.emulator.errors import EmulatorError
from fakedevices.emulator.runner import EmulatorRunner
from fakedevices.kinds import registry
from fakedevices.kinds.base import Allocation, ContainerEdits, DeviceAccess, DeviceNode
from fakedevices.kinds.env_names import device_var
from fakedevices.model import Device
from fakedevices.plugin.cdi_specs import CdiDevice, CdiSpecs
from fakedevices.plugin.checkpoint import PreparedDevice
from fakedevices.plugin.claims import ClaimError, base_request
from fakedevices.plugin.inventory import NodeInventory
from fakedevices.spec.problems import SpecError


class SessionRefused(ClaimError):
    """The device's emulator refused the session (a conflicting session, bad limits, not running)."""


@dataclass(frozen=True)
class Grant:
    """One device given to a claim, as its allocation says (or the checkpoint, after a restart)."""

    request: str
    pool: str
    device: str
    parameters: Any = None
    """The opaque config chosen for the request (None: the kind's defaults)."""
    consumed_capacity: Mapping[str, str] = field(default_factory=dict)
    share_id: str | None = None
    admin_access: bool = False

    @staticmethod
    def of(prepared: PreparedDevice) -> Grant:
        return Grant(
            prepared.request,
            prepared.pool,
            prepared.device,
            prepared.parameters,
            prepared.consumed_capacity,
            prepared.share_id,
            prepared.admin_access,
        )


class ContainerDevices:
    def __init__(self, inventory: NodeInventory, runner: EmulatorRunner, cdi: CdiSpecs) -> None:
        self.inventory = inventory
        self.runner = runner
        self.cdi = cdi

    def published(self, pool: str, name: str, request: str, where: str) -> Device:
        """The device as this node publishes it, or `ClaimError` when the node no longer has it."""
        device = self.inventory.device(pool, name)
        if device is None:
            raise ClaimError(
                f"{where}: request {request!r} was allocated {pool}/{name}, which this node no longer has "
                "(the device went away): delete the pod so the claim is allocated anew"
            )
        return device

    def attach(self, claim_uid: str, grant: Grant, where: str) -> tuple[PreparedDevice, CdiDevice]:
        """Open (or re-open) the grant's session; the checkpoint's record of it and its CDI device."""
        device = self.published(grant.pool, grant.device, grant.request, where)
        # A claim may use a device and also watch it with admin access: two CDI devices, two names.
        name = self.cdi.device_name(claim_uid, device.name + ("-admin" if grant.admin_access else ""))
        if grant.admin_access:
            # Monitoring a device others may hold: no session, so their use and its state are left alone.
            session_id = endpoint = ""
            edits = admin_edits(device, base_request(grant.request))
        else:
            session_id = _session_id(claim_uid, device.name)
            access = self._open(session_id, grant, device, where)
            endpoint = str(access.endpoint.socket_path or access.endpoint.addr)
            edits = registry.get(device.kind).container_edits(access)
        prepared = PreparedDevice(
            request=grant.request,
            pool=grant.pool,
            device=device.name,
            kind=device.kind,
            physical=device.physical,
            cdi_id=self.cdi.qualified_id(name),
            session_id=session_id,
            endpoint=endpoint,
            share_id=grant.share_id,
            parameters=grant.parameters,
            consumed_capacity=dict(grant.consumed_capacity),
            admin_access=grant.admin_access,
        )
        return prepared, CdiDevice(name, edits)

    def detach(self, claim_uid: str, prepared: PreparedDevice) -> None:
        """Close the device's session (a no-op for admin access and for a session already closed)."""
        device = self.inventory.device(prepared.pool, prepared.device)
        if device is not None and not prepared.admin_access:
            self.runner.get(device.physical).close_session(_session_id(claim_uid, prepared.device))

    def _open(self, session_id: str, grant: Grant, device: Device, where: str) -> DeviceAccess[Any]:
        kind = registry.get(device.kind)
        if grant.parameters is None:
            config = kind.default_config()
        else:
            try:
                config = kind.parse_config(grant.parameters, f"request {grant.request!r} opaque config")
            except SpecError as exc:
                problems = "; ".join(str(p) for p in exc.problems)
                raise ClaimError(f"{where}: bad opaque config for request {grant.request!r}: {problems}") from exc
        card = self.inventory.card_of(grant.pool, device)
        allocation = Allocation(session_id, grant.request, device, card, config, grant.consumed_capacity)
        try:
            endpoint = kind.open_session(self.runner.get(card.name), allocation)
        except EmulatorError as exc:
            raise SessionRefused(f"{where}: request {grant.request!r}, device {device.name}: {exc}") from exc
        except ValueError as exc:
            raise ClaimError(f"{where}: request {grant.request!r}, device {device.name}: {exc}") from exc
        return DeviceAccess(device, card, base_request(grant.request), config, endpoint)


def admin_edits(device: Device, request: str) -> ContainerEdits:
    identity = [f"{key}={value.value}" for key, value in sorted(device.attributes.items()) if key in ("uuid", "serial")]
    env = [
        f"{device_var(device.kind, device.name, 'ADMIN')}=true",
        f"{device_var(device.kind, device.name, 'REQUEST')}={request}",
    ]
    env += [
        f"{device_var(device.kind, device.name, key.split('=')[0].upper())}={key.split('=', 1)[1]}" for key in identity
    ]
    return ContainerEdits(env=tuple(env), device_nodes=(DeviceNode(f"/dev/drafarm/{device.name}", "/dev/null"),))


def _session_id(claim_uid: str, device: str) -> str:
    return f"{claim_uid}-{device}"
