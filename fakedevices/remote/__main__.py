"""``python -m fakedevices.remote``: serve a network pool's devices outside the plugin (the device host).

    python -m fakedevices.remote --farm SPEC --pool NAME [--seed N] [--device NAME ...]
        [--state-dir DIR] [--key-file PATH] [--control-port 8555]

Builds the farm as the plugin does (same spec and seed, so the same devices), takes the pool's devices
(or the ones named with ``--device``: one process per device works as well as one for the pool), and
serves each on its own address (the card's, e.g. a camera's ``ipAddress``) at its kind's port, with host
control at that address and ``--control-port``. Every address must exist on the host (a container with
one IP per device, or the IPs added to its interface). The key: ``--key-file`` or ``$DRAFARM_NETWORK_KEY``.
Prints one JSON line per device and ``{"ready": true}``, then serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fakedevices.emulator.errors import EmulatorError
from fakedevices.emulator.listen import Listen
from fakedevices.emulator.runner import EmulatorRunner
from fakedevices.emulator.stop_signal import stop_on_signals
from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.kinds import registry
from fakedevices.kinds.placement import OnNetwork
from fakedevices.model import Card, Farm
from fakedevices.remote import auth
from fakedevices.remote.host import DeviceHost, HostedDevice
from fakedevices.remote.ops import CONTROL_PORT
from fakedevices.spec.problems import SpecError

DEFAULT_STATE_DIR = Path("/var/lib/drafarm/device-host")


class UsageError(Exception):
    pass


def pool_cards(farm: Farm, pool: str, only: list[str]) -> list[Card]:
    found = next((p for p in farm.pools if p.name == pool), None)
    if found is None:
        names = ", ".join(p.name for p in farm.pools) or "none"
        raise UsageError(f"--pool {pool!r} is not a network pool of farm {farm.name!r}; pools: {names}")
    cards = list(found.inventory.cards)
    unknown = sorted(set(only) - {c.name for c in cards})
    if unknown:
        known = ", ".join(c.name for c in cards)
        raise UsageError(f"--device {', '.join(unknown)}: not in pool {pool}; its devices: {known}")
    return [c for c in cards if not only or c.name in only]


def hosted(cards: list[Card], state_dir: Path) -> list[HostedDevice]:
    devices = []
    for card in cards:
        kind = registry.get(card.kind)
        if not isinstance(kind.placement, OnNetwork):
            raise UsageError(f"device {card.name} is a {card.kind}, which is not placed on the network")
        address = kind.placement.address(card)
        emulator = kind.emulator(card, state_dir, Listen(address, kind.placement.port))
        devices.append(HostedDevice(emulator, address))
    return devices


def read_key(key_file: Path | None) -> bytes:
    if key_file is not None:
        return auth.read_key_file(key_file)
    key = auth.key_from_env()
    if key is None:
        raise UsageError(f"no key: give --key-file PATH or set ${auth.KEY_ENV} (the plugins' --network-key-file)")
    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakedevices.remote", description=__doc__)
    parser.add_argument("--farm", required=True, help="farm spec: a path or an example name")
    parser.add_argument("--pool", required=True, help="the network pool whose devices to serve")
    parser.add_argument("--seed", type=int, help="the farm's seed, if not the spec's")
    parser.add_argument("--device", action="append", default=[], help="serve only this device (repeatable)")
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="session keys (keep it)")
    parser.add_argument("--key-file", type=Path, help=f"the pool key (else ${auth.KEY_ENV})")
    parser.add_argument("--control-port", type=int, default=CONTROL_PORT, help="host control's TCP port")
    args = parser.parse_args(argv)
    try:
        key = read_key(args.key_file)
        farm = build_farm(load_farm_spec(args.farm), args.seed)
        devices = hosted(pool_cards(farm, args.pool, args.device), args.state_dir)
        runner = EmulatorRunner(args.state_dir, [d.emulator for d in devices])
        host = DeviceHost(runner, devices, key, args.control_port)
    except (UsageError, SpecError, ValueError, EmulatorError) as exc:
        print(f"fakedevices.remote: {exc}", file=sys.stderr)
        return 2
    stop = stop_on_signals()
    try:
        host.start()
    except EmulatorError as exc:
        print(f"fakedevices.remote: {exc}", file=sys.stderr)
        return 2
    try:
        for device in devices:
            emulator = device.emulator
            line = {"device": emulator.name, "kind": emulator.kind, "address": device.address}
            print(json.dumps(line), flush=True)
        print(json.dumps({"ready": True, "pool": args.pool, "state_dir": str(args.state_dir)}), flush=True)
        stop.wait()
    finally:
        host.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
