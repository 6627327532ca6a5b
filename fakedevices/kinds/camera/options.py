"""The options of a camera network pool."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from fakedevices.spec.reader import DNS_LABEL, Reader

RESOLUTIONS = ("640x480", "1280x720", "1920x1080", "2560x1440", "3840x2160")
CODECS = ("h264", "h265", "mjpeg")
MAX_CAMERAS_PER_POOL = 200
ZONE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$")


@dataclass(frozen=True)
class CameraOptions:
    count: int
    resolution: str
    fps: int
    codec: str
    zone: str
    bandwidth_mbps: int
    min_share_mbps: int
    bind_address: str | None


def _ip_address(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return str(ipaddress.ip_address(value))


def _room_for(first: str, count: int) -> bool:
    address = ipaddress.ip_address(first)
    top = 2**32 - 1 if address.version == 4 else 2**128 - 1
    return int(address) + count - 1 <= top


def parse_camera_options(r: Reader, pool_name: str) -> CameraOptions:
    options = CameraOptions(
        count=r.integer("count", minimum=1, maximum=MAX_CAMERAS_PER_POOL),
        resolution=r.string("resolution", "1920x1080", choices=RESOLUTIONS),
        fps=r.integer("fps", 30, minimum=1, maximum=240),
        codec=r.string("codec", "h264", choices=CODECS),
        zone=r.string(
            "zone",
            pool_name if DNS_LABEL.match(pool_name) else "default",
            pattern=ZONE,
            pattern_help="a short lowercase name such as lobby-east",
        ),
        bandwidth_mbps=r.integer("bandwidthMbps", 100, minimum=1, maximum=100_000),
        min_share_mbps=r.integer("minShareMbps", 10, minimum=1, maximum=100_000),
        bind_address=r.parsed("bindAddress", None, _ip_address, "an IPv4 or IPv6 address such as 198.19.0.10"),
    )
    if options.bind_address is not None and not _room_for(options.bind_address, options.count):
        r.problem(
            r.at("bindAddress"),
            options.bind_address,
            f"camera i serves on bindAddress + i: {options.count} cameras do not fit after it; give a lower address",
        )
    if options.min_share_mbps > options.bandwidth_mbps:
        r.problem(
            r.at("minShareMbps"),
            options.min_share_mbps,
            f"at most bandwidthMbps ({options.bandwidth_mbps}): a viewer's share cannot exceed the camera",
        )
    return options
