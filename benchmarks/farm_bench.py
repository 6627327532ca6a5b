"""Benchmark the farm generator: `drafarm farm show large` as a person runs it, and the build in-process.

    python -m benchmarks.farm_bench [--out results/bench-farm.json] [--repeat N] [--farm large]

Target: `drafarm farm show large` under 2 s (wall time of the whole command, interpreter start included).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.command_line import at_least_one, bench_parser, report
from benchmarks.common import Target, figure, results_document, write_results

DEFAULT_OUT = Path("results/bench-farm.json")
TARGETS = {
    "farm_show": Target("farm_show", "farm_show.table.median_seconds", 2.0, "s", at_most=True),
    "farm_build": Target("farm_build", "in_process.build_farm.median_seconds", 2.0, "s", at_most=True),
}


@dataclass(frozen=True)
class FarmBenchParams:
    farm: str = "large"
    repeat: int = 5
    formats: tuple[str, ...] = ("table", "json")


def drafarm_command() -> list[str]:
    """The `drafarm` console script next to this interpreter, else `python -m harness`."""
    script = Path(sys.executable).parent / "drafarm"
    if script.exists():
        return [str(script)]
    found = shutil.which("drafarm")
    return [found] if found else [sys.executable, "-m", "harness"]


def timings(samples: Sequence[float]) -> dict[str, Any]:
    return {
        "runs": len(samples),
        "min_seconds": round(min(samples), 4),
        "median_seconds": round(statistics.median(samples), 4),
        "max_seconds": round(max(samples), 4),
    }


def time_command(command: Sequence[str], repeat: int, shown: str) -> dict[str, Any]:
    samples: list[float] = []
    output_bytes = 0
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=False)
        samples.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
        output_bytes = len(done.stdout)
    return {"command": shown, "output_bytes": output_bytes, **timings(samples)}


def time_call(call: Callable[[], object], repeat: int) -> dict[str, Any]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return timings(samples)


def run(params: FarmBenchParams, out: Path | None, *, log: Any = print) -> dict[str, Any]:
    started = time.monotonic()
    from fakedevices.farm import build_farm
    from fakedevices.farmspec.loader import load_farm_spec

    figures: dict[str, Any] = {"farm": params.farm}
    base = drafarm_command()
    figures["farm_show"] = {}
    for output in params.formats:
        args = ["farm", "show", params.farm, "-o", output]
        figures["farm_show"][output] = time_command([*base, *args], params.repeat, " ".join(["drafarm", *args]))
        log(f"drafarm farm show {params.farm} -o {output}: median {figures['farm_show'][output]['median_seconds']} s")
    spec = load_farm_spec(params.farm)
    farm = build_farm(spec)
    figures["in_process"] = {
        "nodes": len(farm.nodes),
        "devices": sum(len(node.inventory.devices) for node in farm.nodes),
        "load_spec": time_call(lambda: load_farm_spec(params.farm), params.repeat),
        "build_farm": time_call(lambda: build_farm(spec), params.repeat),
    }
    log(f"build_farm({params.farm}) in-process: median {figures['in_process']['build_farm']['median_seconds']} s")
    targets = {name: target.check(figure(figures, target.figure)) for name, target in TARGETS.items()}
    params_doc = asdict(params) | {"command": " ".join(base)}
    document = results_document("farm", params_doc, figures, targets, started=started)
    if out is not None:
        write_results(out, document)
    return document


def main(argv: Sequence[str] | None = None) -> int:
    parser = bench_parser("benchmarks.farm_bench", __doc__, out=DEFAULT_OUT)
    parser.add_argument("--repeat", type=at_least_one, default=FarmBenchParams.repeat, help="Runs of each command.")
    parser.add_argument("--farm", default=FarmBenchParams.farm, help="Farm spec (default: large).")
    args = parser.parse_args(argv)
    return report(run(FarmBenchParams(farm=args.farm, repeat=args.repeat), args.out), args.out)


if __name__ == "__main__":
    sys.exit(main())
