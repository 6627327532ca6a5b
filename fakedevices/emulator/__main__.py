"""``python -m fakedevices.emulator``: run a node's emulators standalone (for manual use and demos).

    python -m fakedevices.emulator --state-dir /tmp/df --config devices.json [--session demo]

``devices.json``: ``{"<kind>": [{emulator config fields of that kind}], ...}`` for any registered kind,
e.g. ``{"gpu": [{GpuEmulatorConfig fields}], "fpga": [...], "camera": [...]}``. With ``--session ID``
one session per device is opened (FPGAs get ``"bitstream": {name, family, sha256}`` from their entry, if
given) and one JSON line per device is printed: ``{"device", "kind", "env"}`` with the env vars a
container would get. Runs until SIGINT/SIGTERM, then removes every socket.

This command is the one part of ``fakedevices.emulator`` that knows kinds: it finds them in
``fakedevices.kinds.registry`` (nothing imports it, so it closes no import cycle).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakedevices.emulator.base import Emulator
from fakedevices.emulator.errors import EmulatorError
from fakedevices.emulator.listen import Listen
from fakedevices.emulator.runner import EmulatorRunner
from fakedevices.emulator.stop_signal import stop_on_signals
from fakedevices.kinds import registry


@dataclass(frozen=True)
class _Device:
    kind: registry.AnyKind
    emulator: Emulator[Any]
    entry: Mapping[str, Any]


def _devices(document: Any, state_dir: Path, listen: Listen) -> list[_Device]:
    if not isinstance(document, dict):
        raise ValueError(f"expected an object of kind names to lists of devices, got {type(document).__name__}")
    unknown = sorted(set(document) - set(registry.names()))
    if unknown:
        raise ValueError(f"unknown device kinds {unknown}; use {', '.join(registry.names())}")
    devices = []
    for kind in registry.all_kinds():
        for entry in document.get(kind.name, []):
            devices.append(_Device(kind, kind.standalone_emulator(entry, state_dir, listen), entry))
    return devices


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakedevices.emulator", description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True, help="JSON file of device configs")
    parser.add_argument("--session", help="open one session with this id on every device")
    parser.add_argument(
        "--bind",
        "--camera-bind",
        default="127.0.0.1",
        help="bind address of devices served over the network, e.g. cameras (default 127.0.0.1)",
    )
    args = parser.parse_args(argv)
    try:
        devices = _devices(json.loads(args.config.read_text()), args.state_dir, Listen(args.bind))
    except (OSError, ValueError, TypeError, AttributeError, RecursionError, EmulatorError) as exc:
        print(f"fakedevices.emulator: bad --config {args.config}: {exc}", file=sys.stderr)
        return 2
    stop = stop_on_signals()
    try:
        runner = EmulatorRunner(args.state_dir, [d.emulator for d in devices])
        runner.start()
    except EmulatorError as exc:
        print(f"fakedevices.emulator: {exc}", file=sys.stderr)
        return 2
    with runner:
        for device in sorted(devices, key=lambda d: d.emulator.name):
            emulator = device.emulator
            if args.session is None:
                print(json.dumps({"device": emulator.name, "kind": emulator.kind}), flush=True)
                continue
            endpoint = device.kind.standalone_session(emulator, args.session, device.entry)
            line = {"device": emulator.name, "kind": emulator.kind, "env": endpoint.container_env()}
            print(json.dumps(line), flush=True)
        print(json.dumps({"ready": True, "state_dir": str(args.state_dir)}), flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
