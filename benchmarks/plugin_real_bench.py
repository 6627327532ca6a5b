"""Benchmark both DRA plugins on the real path, side by side: drafarm's and the upstream Go test driver.

    python -m benchmarks.plugin_real_bench [--out results/bench-plugin-real.json] [--rounds 5]
                                           [--samples 200] [--seconds 4] [--callers 8]

On the shared `local` cluster (brought up if it is not running): real ResourceClaims in the API server,
allocated through the status subresource (one device each, the node's selector, as the scheduler writes
them), the same number per device for each plugin; each plugin a host process with its real gRPC
socket; one Python client playing the kubelet calls NodePrepareResources / NodeUnprepareResources on
both. Each round measures both plugins, in alternating order:

- single-caller latency: prepare + unprepare cycles over the plugin's claims (each prepare is a fresh
  one: the previous prepare of that claim was unprepared);
- throughput: N callers, caller i on device i's claims, looping prepare + unprepare;
- CPU the plugin process and the API server used.

Then, for reference, one short round of the Go driver at client-go's default rate limit (5 QPS,
burst 10), the way a driver that sets none runs (not in the ratios).

Figures are pooled over rounds; results as ratios drafarm/Go in results/bench-plugin-real.json.
Targets (2 cores): p50 <= 0.5x, p99 <= 0.8x, throughput >= 1.5x.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks.claims import ClaimRef
from benchmarks.closed_loop import closed_loop
from benchmarks.command_line import above_zero, at_least_one, bench_parser, report
from benchmarks.common import Target, figure, latency_summary_ms, results_document, write_results
from benchmarks.kubelet import BenchKubelet
from benchmarks.procfs import cpu_seconds
from benchmarks.real_claims import Allocation, create_claims, create_namespace, delete_namespace

DEFAULT_OUT = Path("results/bench-plugin-real.json")
REFERENCE = "go-client-go-defaults"
CLIENT_GO_DEFAULTS = (5.0, 10)  # rest.Config's QPS and burst when a program sets none
TARGETS = {
    "p50_ratio": Target("p50_ratio", "ratios.prepare_p50", 0.5, "x", at_most=True),
    "p99_ratio": Target("p99_ratio", "ratios.prepare_p99", 0.8, "x", at_most=True),
    "throughput_ratio": Target("throughput_ratio", "ratios.prepares_per_second", 1.5, "x", at_most=False),
}


@dataclass(frozen=True)
class RealBenchParams:
    rounds: int = 5
    samples: int = 200
    warmup: int = 30
    callers: int = 8
    seconds: float = 4.0
    claims_per_device: int = 4
    farm: str = "large"
    node: str = "gpu-node-0"
    go_qps: float = 1000.0
    go_burst: int = 1000
    go_verbosity: int = 1
    reference: bool = True  # also the Go driver at client-go's default rate limit (5 QPS, burst 10)
    start_timeout: float = 120.0


@dataclass
class Tally:
    """One plugin's samples, pooled over rounds."""

    single: list[float]
    under_load: list[float]
    prepares: int = 0
    load_seconds: float = 0.0
    cycles: int = 0
    plugin_cpu: float = 0.0
    apiserver_cpu: float = 0.0
    errors: list[str] | None = None


def cycles(kubelet: BenchKubelet, claims: Sequence[ClaimRef], count: int) -> list[float]:
    """`count` prepare + unprepare cycles, round robin over `claims`; prepare durations in seconds."""
    out = []
    for index in range(count):
        claim = claims[index % len(claims)]
        started = time.perf_counter()
        kubelet.prepare([claim])
        out.append(time.perf_counter() - started)
        kubelet.unprepare([claim])
    return out


def load(
    kubelet: BenchKubelet, per_device: Sequence[Sequence[ClaimRef]], callers: int, seconds: float
) -> tuple[list[float], float, list[str]]:
    """Caller i cycles through the claims of device i (mod the devices)."""

    def next_claim(caller: int, turn: int) -> ClaimRef:
        claims = per_device[caller % len(per_device)]
        return claims[turn % len(claims)]

    result = closed_loop(kubelet, callers, seconds, next_claim)
    return result.latencies, result.elapsed, result.errors


def measure(subject: Any, claims: list[list[ClaimRef]], params: RealBenchParams, tally: Tally,
            apiserver: int | None) -> dict[str, Any]:  # fmt: skip
    flat = [c for per in claims for c in per]
    cpu0 = cpu_seconds(subject.pid)
    api0 = cpu_seconds(apiserver) if apiserver else 0.0
    single = cycles(subject.kubelet, flat, params.samples)
    under_load, elapsed, errors = load(subject.kubelet, claims, params.callers, params.seconds)
    plugin_cpu = cpu_seconds(subject.pid) - cpu0
    api_cpu = (cpu_seconds(apiserver) - api0) if apiserver else 0.0
    tally.single += single
    tally.under_load += under_load
    tally.prepares += len(under_load)
    tally.load_seconds += elapsed
    tally.cycles += len(single) + len(under_load)
    tally.plugin_cpu += plugin_cpu
    tally.apiserver_cpu += api_cpu
    tally.errors = (tally.errors or []) + errors
    return {
        "plugin": subject.name,
        "prepare_p50_ms": latency_summary_ms(single)["p50_ms"],
        "prepare_p99_ms": latency_summary_ms(single)["p99_ms"],
        "prepares_per_second": round(len(under_load) / elapsed, 1) if elapsed > 0 else 0.0,
        "errors": len(errors),
    }


def summary(tally: Tally, callers: int) -> dict[str, Any]:
    rate = tally.prepares / tally.load_seconds if tally.load_seconds > 0 else 0.0
    per_cycle = 1000 / tally.cycles if tally.cycles else 0.0
    return {
        "prepare_single": latency_summary_ms(tally.single),
        "prepare_under_load": latency_summary_ms(tally.under_load) if tally.under_load else None,
        "throughput": {
            "callers": callers,
            "prepares": tally.prepares,
            "seconds": round(tally.load_seconds, 3),
            "prepares_per_second": round(rate, 1),
        },
        "cpu_ms_per_cycle": {
            "plugin": round(tally.plugin_cpu * per_cycle, 3),
            "apiserver": round(tally.apiserver_cpu * per_cycle, 3),
        },
        "errors": len(tally.errors or []),
        "first_errors": (tally.errors or [])[:5],
    }


def ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 3) if theirs > 0 else None


def run(params: RealBenchParams, out: Path | None, *, log: Any = print) -> dict[str, Any]:
    started = time.monotonic()
    from clusters import paths, shared
    from clusters.local import processes
    from clusters.local.provider import LocalProvider
    from clusters.toolchain import lookup

    provider = LocalProvider(k8s_version=os.environ.get("K8S_VERSION") or None)
    root = paths.state_root()
    shared.acquire(provider, root)
    try:
        binary = lookup.program(provider.cfg.pins, "kubernetes", "dra-test-driver")
        apiserver = processes.read_pid(provider.layout, "kube-apiserver")
        return _run(params, out, provider, binary, apiserver, started, log)
    finally:
        shared.release(provider, root)


def _run(params: RealBenchParams, out: Path | None, provider: Any, binary: Path, apiserver: int | None,
         started: float, log: Any) -> dict[str, Any]:  # fmt: skip
    from lightkube import Client, KubeConfig

    from benchmarks.plugin_bench import filesystem_of
    from benchmarks.real_subjects import STATE_ROOT, DrafarmPlugin, GoDriver
    from fakedevices.farm import build_farm
    from fakedevices.farmspec.loader import load_farm_spec

    load_before = [round(x, 2) for x in os.getloadavg()]
    client = Client(KubeConfig.from_file(str(provider.kubeconfig())), field_manager="drafarm-bench")
    farm = build_farm(load_farm_spec(params.farm))
    gpus = [d.name for d in farm.node(params.node).devices if d.kind == "gpu" and d.name == d.physical]
    devices = gpus[: params.callers] or gpus
    namespace = create_namespace(client)
    subjects: list[Any] = []
    try:
        ours = DrafarmPlugin(provider, params.farm, params.node, params.start_timeout)
        subjects.append(ours)
        go = GoDriver(provider, binary, len(devices), params.go_qps, params.go_burst, params.go_verbosity)
        subjects.append(go)
        go_devices = [f"device-{i}" for i in range(len(devices))]
        claims = {
            "drafarm": create_claims(client, namespace, "df", Allocation("drafarm.dev", params.node, params.node),
                                     devices, params.claims_per_device),
            "go": create_claims(client, namespace, "go", Allocation(go.driver, go.node, go.node), go_devices,
                                params.claims_per_device),
        }  # fmt: skip
        log(f"claims in {namespace}: {params.claims_per_device} per device, {len(devices)} devices per plugin")
        reads_before = ours.claim_reads()
        for subject in subjects:
            cycles(subject.kubelet, [c for per in claims[subject.name] for c in per], params.warmup)
        tallies = {s.name: Tally([], []) for s in subjects}
        rounds = []
        for index in range(params.rounds):
            order = subjects if index % 2 == 0 else list(reversed(subjects))
            for subject in order:
                one = measure(subject, claims[subject.name], params, tallies[subject.name], apiserver)
                rounds.append({"round": index + 1, **one})
                log(f"round {index + 1} {subject.name}: {one}")
        reads = {k: v - reads_before.get(k, 0.0) for k, v in ours.claim_reads().items()}
        if params.reference:
            go.stop()
            subjects.remove(go)
            limited = GoDriver(provider, binary, len(devices), *CLIENT_GO_DEFAULTS, params.go_verbosity, REFERENCE)
            subjects.append(limited)
            short = replace(params, samples=min(params.samples, 30), seconds=min(params.seconds, 2.0))
            tallies[REFERENCE] = Tally([], [])
            rounds.append({"round": 0, **measure(limited, claims["go"], short, tallies[REFERENCE], apiserver)})
        setup = {
            "cluster": provider.cfg.name,
            "kubernetes": provider.cfg.pins.kubernetes,
            "namespace": namespace,
            "devices_per_plugin": len(devices),
            "claims_per_plugin": len(devices) * params.claims_per_device,
            "drafarm_command": ours.command,
            "go_command": go.command,
            "drafarm_claim_reads": reads,
            "state_filesystem": filesystem_of(STATE_ROOT),
            "load_average_before": load_before,
        }
    finally:
        for subject in reversed(subjects):
            subject.stop()
        _remove_slices(client, [s.driver for s in subjects if isinstance(s, GoDriver)])
        delete_namespace(client, namespace)
    figures: dict[str, Any] = {name: summary(tally, params.callers) for name, tally in tallies.items()}
    figures["ratios"] = {
        "prepare_p50": ratio(figures["drafarm"]["prepare_single"]["p50_ms"], figures["go"]["prepare_single"]["p50_ms"]),
        "prepare_p99": ratio(figures["drafarm"]["prepare_single"]["p99_ms"], figures["go"]["prepare_single"]["p99_ms"]),
        "prepares_per_second": ratio(
            figures["drafarm"]["throughput"]["prepares_per_second"], figures["go"]["throughput"]["prepares_per_second"]
        ),
    }
    figures["rounds"] = rounds
    figures["setup"] = setup
    notes = [f"{name}: {t.errors[0]}" for name, t in tallies.items() if t.errors]
    targets = {name: target.check(figure(figures, target.figure)) for name, target in TARGETS.items()}
    document = results_document("plugin-real", asdict(params), figures, targets, started=started, notes=notes)
    if out is not None:
        write_results(out, document)
    return document


def _remove_slices(client: Any, drivers: list[str]) -> None:
    from lightkube.resources.resource_v1 import ResourceSlice

    for driver in drivers:
        for found in client.list(ResourceSlice, fields={"spec.driver": driver}):
            client.delete(ResourceSlice, found.metadata.name)


def table(document: dict[str, Any]) -> str:
    figures = document["figures"]
    callers = document["parameters"]["callers"]
    rows = [f"| plugin | prepare p50 | p99 | prepares/s ({callers} callers) | CPU ms/cycle (plugin, apiserver) |"]
    rows.append("|---|---|---|---|---|")
    labels = {"go": "go (1000 QPS)", "drafarm": "drafarm", REFERENCE: "go (client-go default 5 QPS)"}
    for name in ("go", "drafarm", REFERENCE):
        if name not in figures:
            continue
        f = figures[name]
        rows.append(
            f"| {labels[name]} | {f['prepare_single']['p50_ms']} ms | {f['prepare_single']['p99_ms']} ms | "
            f"{f['throughput']['prepares_per_second']} | {f['cpu_ms_per_cycle']['plugin']}, "
            f"{f['cpu_ms_per_cycle']['apiserver']} |"
        )
    r = figures["ratios"]
    rows.append(f"| drafarm/go | {r['prepare_p50']}x | {r['prepare_p99']}x | {r['prepares_per_second']}x | |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = bench_parser("benchmarks.plugin_real_bench", __doc__, out=DEFAULT_OUT)
    parser.add_argument("--rounds", type=at_least_one, default=RealBenchParams.rounds, help="Alternating rounds.")
    parser.add_argument(
        "--samples", type=at_least_one, default=RealBenchParams.samples, help="Single-caller cycles a round."
    )
    parser.add_argument("--seconds", type=above_zero, default=RealBenchParams.seconds, help="Load phase of a round.")
    parser.add_argument("--callers", type=at_least_one, default=RealBenchParams.callers, help="Concurrent callers.")
    parser.add_argument(
        "--no-reference", action="store_true", help="Skip the Go driver at client-go's default 5 QPS (a short round)."
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="No progress lines.")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("plugin-real: skipped, the local cluster runs a kubelet and containerd, which need root")
        return 0
    params = RealBenchParams(
        rounds=args.rounds,
        samples=args.samples,
        seconds=args.seconds,
        callers=args.callers,
        reference=not args.no_reference,
    )
    try:
        document = run(params, args.out, log=(lambda _m: None) if args.quiet else print)
    except Exception as exc:  # a cluster that does not come up, a driver that does not build or start
        print(f"plugin-real: not measured: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(table(document))
    return report(document, args.out)


if __name__ == "__main__":
    sys.exit(main())
