"""Network cameras: one DRA pool per camera pool, reachable from a set of nodes."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from fakedevices.identity import IdentityStream
from fakedevices.kinds.base import BuildContext
from fakedevices.kinds.camera.options import CameraOptions
from fakedevices.kinds.card_device import card_device
from fakedevices.model import Attribute, Capacity, Card, Device, Inventory, RequestPolicy
from fakedevices.quantity import format_decimal

CAMERA_MODELS = ("DFC-210 Dome", "DFC-340 Bullet", "DFC-500 PTZ", "DFC-120 Fisheye")
CAMERA_NETWORK = "198.19"
CAMERA_NETWORK_CIDR = "198.19.0.0/16"  # pool p gets 198.19.<p+1>.0/24
CAMERA_PORT = 8554  # where a camera serving on its own address listens


@dataclass(frozen=True)
class CameraIdentity:
    index: int
    serial: str
    model: str
    resolution: str
    fps: int
    codec: str
    zone: str
    bandwidth_mbps: int
    mac_address: str
    ip_address: str
    firmware_version: str


def camera_address(pool_index: int, index: int) -> str:
    """Cameras live in 198.19.0.0/16 (inside the project's 198.18.0.0/15): one /24 per pool."""
    return f"{CAMERA_NETWORK}.{pool_index + 1}.{index + 10}"


def bound_address(first: str, index: int) -> str:
    """Camera `index` of a pool with a `bindAddress`: that address plus `index` (each camera its own)."""
    return str(ipaddress.ip_address(first) + index)


def camera_ip(card: Card) -> str:
    identity: CameraIdentity = card.identity
    return identity.ip_address


def build_cameras(ctx: BuildContext, o: CameraOptions) -> Inventory:
    width, height = (int(part) for part in o.resolution.split("x"))
    policy = RequestPolicy(
        default=format_decimal(o.min_share_mbps * 10**6),
        minimum=format_decimal(o.min_share_mbps * 10**6),
        step=format_decimal(10**6),
    )
    cards: list[Card] = []
    devices: list[Device] = []
    for index in range(o.count):
        stream = IdentityStream(ctx.seed, ctx.pool, "camera", str(index))
        identity = CameraIdentity(
            index=index,
            serial=stream.serial("DFC"),
            model=stream.choice(CAMERA_MODELS),
            resolution=o.resolution,
            fps=o.fps,
            codec=o.codec,
            zone=o.zone,
            bandwidth_mbps=o.bandwidth_mbps,
            mac_address=stream.mac_address(),
            ip_address=bound_address(o.bind_address, index)
            if o.bind_address
            else camera_address(ctx.pool_index, index),
            firmware_version=stream.version((2, 6)),
        )
        card = Card(f"{ctx.pool}-cam-{index}", "camera", identity)
        cards.append(card)
        devices.append(
            card_device(
                card,
                index,
                {
                    "model": Attribute.of_string(identity.model),
                    "serial": Attribute.of_string(identity.serial),
                    "resolution": Attribute.of_string(identity.resolution),
                    "width": Attribute.of_int(width),
                    "height": Attribute.of_int(height),
                    "fps": Attribute.of_int(identity.fps),
                    "codec": Attribute.of_string(identity.codec),
                    "zone": Attribute.of_string(identity.zone),
                    "macAddress": Attribute.of_string(identity.mac_address),
                    "ipAddress": Attribute.of_string(identity.ip_address),
                    "firmwareVersion": Attribute.of_version(identity.firmware_version),
                },
                {"bandwidth": Capacity(format_decimal(o.bandwidth_mbps * 10**6), policy)},
                allow_multiple_allocations=True,
            )
        )
    return Inventory(tuple(cards), tuple(devices))
