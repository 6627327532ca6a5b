"""What every cluster benchmark reports: the up/down runs against their targets, written to one file."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any


def up_down_summary(samples: list[dict[str, Any]], up_target_s: float, down_target_s: float) -> dict[str, Any]:
    """The host, the runs, the worst up and down, and whether the targets were met with nothing left behind."""
    ups = [float(s["up_s"]) for s in samples]
    downs = [float(s["down_s"]) for s in samples]
    met = max(ups) <= up_target_s and max(downs) <= down_target_s and not any(s["leftovers"] for s in samples)
    return {
        "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "kernel": platform.release()},
        "runs": samples,
        "up_s_max": round(max(ups), 2),
        "down_s_max": round(max(downs), 2),
        "targets": {"up_s": up_target_s, "down_s": down_target_s},
        "met": met,
    }


def write_result(out_dir: Path, stem: str, result: dict[str, Any]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {out} (targets met: {result['met']})")
    return out
