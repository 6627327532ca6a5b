"""``python -m fakedevices.emulator``: run a node's emulators standalone (for manual use and demos).

    python -m fakedevices.emulator --state-dir /tmp/df --config devices.json [--session demo]

``devices.json``: ``{"gpu": [{GpuEmulatorConfig fields}], "fpga": [...], "camera": [...]}``. With
``--session ID`` one session per device is opened (FPGAs get ``"bitstream": {name, family, sha256}`` from
their entry, if given) and one JSON line per device is printed: ``{"device", "kind", "env"}`` with the
env vars a container would get. Runs until SIGINT/SIGTERM, then removes every socket.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from fakedevices.emulator.errors import EmulatorError
from fakedevices.emulator.runner import EmulatorRunner


def _configs(document: dict[str, Any]) -> tuple[list[Any], dict[str, dict[str, str]]]:
    from fakedevices.kinds.camera.emulator import CameraEmulatorConfig
    from fakedevices.kinds.fpga.emulator import FpgaEmulatorConfig
    from fakedevices.kinds.gpu.emulator import GpuEmulatorConfig

    configs: list[Any] = []
    bitstreams: dict[str, dict[str, str]] = {}
    for entry in document.get("gpu", []):
        configs.append(GpuEmulatorConfig(**entry))
    for entry in document.get("fpga", []):
        entry = dict(entry)
        if "bitstream" in entry:
            bitstreams[entry["name"]] = entry.pop("bitstream")
        configs.append(FpgaEmulatorConfig(**entry))
    for entry in document.get("camera", []):
        configs.append(CameraEmulatorConfig(**entry))
    unknown = sorted(set(document) - {"gpu", "fpga", "camera"})
    if unknown:
        raise ValueError(f"unknown device kinds {unknown}; use gpu, fpga, camera")
    return configs, bitstreams


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakedevices.emulator", description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True, help="JSON file of device configs")
    parser.add_argument("--session", help="open one session with this id on every device")
    parser.add_argument("--camera-bind", default="127.0.0.1", help="camera bind address (default 127.0.0.1)")
    args = parser.parse_args(argv)
    try:
        configs, bitstreams = _configs(json.loads(args.config.read_text()))
    except (OSError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        print(f"fakedevices.emulator: bad --config {args.config}: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    from fakedevices.kinds.fpga.emulator import Bitstream, FpgaEmulator

    try:
        runner = EmulatorRunner(args.state_dir, configs, camera_bind_host=args.camera_bind)
        runner.start()
    except EmulatorError as exc:
        print(f"fakedevices.emulator: {exc}", file=sys.stderr)
        return 2
    with runner:
        for emulator in runner.emulators:
            if args.session is None:
                print(json.dumps({"device": emulator.name, "kind": emulator.kind}), flush=True)
                continue
            endpoint = emulator.open_session(args.session)
            if isinstance(emulator, FpgaEmulator) and emulator.name in bitstreams:
                emulator.program(args.session, Bitstream(**bitstreams[emulator.name]))
            line = {"device": emulator.name, "kind": emulator.kind, "env": endpoint.container_env()}
            print(json.dumps(line), flush=True)
        print(json.dumps({"ready": True, "state_dir": str(args.state_dir)}), flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
