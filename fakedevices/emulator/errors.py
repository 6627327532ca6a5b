"""Errors raised by the emulators on the host side (in-process calls)."""

from __future__ import annotations


class EmulatorError(Exception):
    """A host-side call on an emulator could not be carried out; the message says why and what to do."""


class SessionError(EmulatorError):
    """A session could not be opened, found or used as asked."""


class DeviceUnhealthyError(EmulatorError):
    """The device is marked unhealthy and refuses the operation."""


class RequestError(Exception):
    """A protocol request was refused; the message is sent back as ``{"ok": false, "error": ...}``."""
