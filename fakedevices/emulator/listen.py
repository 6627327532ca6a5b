"""Where an emulator served over the network listens, and the host it tells containers to use."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Listen:
    """``host``/``port`` the device's TCP server binds (port 0: any free one); ``advertise_host`` is put in
    session endpoints instead of the bound host when containers reach the device by another name.

    Emulators served over unix sockets ignore it."""

    host: str = "127.0.0.1"
    port: int = 0
    advertise_host: str | None = None


LOOPBACK = Listen()
