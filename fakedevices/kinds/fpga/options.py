"""The `fpga` block of a farm spec's node group."""

from __future__ import annotations

from dataclasses import dataclass

from fakedevices.spec.reader import Reader

FAMILIES: dict[str, tuple[str, str]] = {
    # family: (part number prefix, vendor-ish product line)
    "agilex7": ("AGFB014R24", "Agilex 7"),
    "stratix10": ("1SG280HU2", "Stratix 10"),
    "versal": ("XCVC1902", "Versal AI Core"),
    "ultrascale-plus": ("XCVU9P", "UltraScale+"),
}
MAX_FPGAS_PER_NODE = 32


@dataclass(frozen=True)
class FpgaOptions:
    count: int
    family: str
    regions: int
    program_seconds: float
    shell_version: str | None


def parse_fpga_options(r: Reader) -> FpgaOptions:
    options = FpgaOptions(
        count=r.integer("count", minimum=0, maximum=MAX_FPGAS_PER_NODE),
        family=r.string("family", "agilex7", choices=tuple(FAMILIES)),
        regions=r.integer("regions", 1, minimum=1, maximum=8),
        program_seconds=r.number("programSeconds", 0.2, minimum=0.0, maximum=600.0),
        shell_version=r.string("shellVersion", "") or None,
    )
    r.finish()
    return options
