"""Device emulators: devices a container can really use.

Shared framework (health, sessions, the line-JSON server) and the node runner. The per-kind emulators
live in ``fakedevices.kinds.<kind>.emulator``. Protocol: ``fakedevices.emulator.protocol`` and
docs/emulator-protocol.md.
"""

from fakedevices.emulator.base import Emulator, Session, SessionEndpoint
from fakedevices.emulator.errors import DeviceUnhealthyError, EmulatorError, RequestError, SessionError
from fakedevices.emulator.health import Health
from fakedevices.emulator.runner import EmulatorRunner, build_emulator

__all__ = [
    "DeviceUnhealthyError",
    "Emulator",
    "EmulatorError",
    "EmulatorRunner",
    "Health",
    "RequestError",
    "Session",
    "SessionEndpoint",
    "SessionError",
    "build_emulator",
]
