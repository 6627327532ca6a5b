"""Device emulators: devices a container can really use.

Shared framework (health, sessions, the line-JSON server, devices served over unix sockets or TCP) and
the node runner; none of it knows a device kind (``python -m fakedevices.emulator`` finds them in
``fakedevices.kinds.registry``). The per-kind emulators live in ``fakedevices.kinds.<kind>.emulator``.
Protocol: ``fakedevices.emulator.protocol`` and docs/emulator-protocol.md.
"""

from fakedevices.emulator.base import Emulator, Session, SessionEndpoint
from fakedevices.emulator.errors import DeviceUnhealthyError, EmulatorError, RequestError, SessionError
from fakedevices.emulator.health import Health
from fakedevices.emulator.listen import Listen
from fakedevices.emulator.runner import EmulatorConfig, EmulatorRunner

__all__ = [
    "DeviceUnhealthyError",
    "Emulator",
    "EmulatorConfig",
    "EmulatorError",
    "EmulatorRunner",
    "Health",
    "Listen",
    "RequestError",
    "Session",
    "SessionEndpoint",
    "SessionError",
]
