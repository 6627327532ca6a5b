"""`python -m benchmarks`: the plugin and farm benchmarks, their results files and a short summary.

    python -m benchmarks [--results-dir results] [--seconds S] [--callers N] [--samples N] [--repeat N]

Exit status 0 when every target is met, 1 when one is missed (the results files are written either way).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import farm_bench, plugin_bench
from benchmarks.command_line import above_zero, at_least_one, bench_parser
from benchmarks.common import summary_lines


def quiet(_message: str) -> None:
    """Progress lines are dropped: the summary at the end says it all."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = bench_parser("benchmarks", __doc__)
    parser.add_argument("--results-dir", type=Path, default=Path("results"), help="Where bench-*.json go.")
    parser.add_argument("--seconds", type=above_zero, default=plugin_bench.PluginBenchParams.seconds)
    parser.add_argument("--callers", type=at_least_one, default=plugin_bench.PluginBenchParams.callers)
    parser.add_argument("--samples", type=at_least_one, default=plugin_bench.PluginBenchParams.samples)
    parser.add_argument("--repeat", type=at_least_one, default=farm_bench.FarmBenchParams.repeat)
    parser.add_argument("--no-cli-rss", action="store_true", help="Skip the `drafarm plugin run` RSS check.")
    parser.add_argument("-v", "--verbose", action="store_true", help="Print progress while measuring.")
    args = parser.parse_args(argv)
    log: Any = print if args.verbose else quiet

    plugin_out = args.results_dir / "bench-plugin.json"
    farm_out = args.results_dir / "bench-farm.json"
    plugin_params = plugin_bench.PluginBenchParams(
        samples=args.samples,
        cached_samples=args.samples,
        callers=args.callers,
        seconds=args.seconds,
        cli_rss=not args.no_cli_rss,
    )
    documents = [
        plugin_bench.run(plugin_params, plugin_out, log=log),
        farm_bench.run(farm_bench.FarmBenchParams(repeat=args.repeat), farm_out, log=log),
    ]
    plugin = documents[0]["figures"]
    lines = [
        f"plugin ({plugin['plugin_process']['node']} of {plugin['plugin_process']['farm']}, "
        f"{documents[0]['machine']['nproc']} cores): prepare p50 {plugin['prepare_single']['client']['p50_ms']} ms, "
        f"p99 {plugin['prepare_single']['client']['p99_ms']} ms; cached repeat prepare p50 "
        f"{plugin['prepare_cached']['client']['p50_ms']} ms; {plugin['throughput']['prepares_per_second']} "
        f"prepares/s with {plugin['throughput']['callers']} callers; RSS max {plugin['memory']['rss_max_mb']} MB",
    ]
    for document in documents:
        lines += summary_lines(document)
    print("\n".join(lines))
    print(f"results: {plugin_out} {farm_out}")
    return 0 if all(d["pass"] for d in documents) else 1


if __name__ == "__main__":
    sys.exit(main())
