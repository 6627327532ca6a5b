"""A process's memory from /proc/<pid>/status (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "VmSize")


def memory_status(pid: int | str) -> dict[str, float]:
    """VmRSS (resident now), VmHWM (peak resident), RssAnon, RssFile, VmSize, in MB (MiB)."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in FIELDS:
            kib = int(value.split()[0])
            out[f"{key}_mb"] = round(kib / 1024, 2)
    return out


def cpu_seconds(pid: int | str) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
    return ticks / os.sysconf("SC_CLK_TCK")
