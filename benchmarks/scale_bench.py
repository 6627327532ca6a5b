"""`python -m benchmarks.scale_bench` (`make bench-scale`): DRA scheduling at scale on virtual nodes.

    python -m benchmarks.scale_bench [--out results/bench-scale.json] [--farm large] [--pods 1000]
                                     [--churn-seconds 30] [--churn-rate 5] [--fills 0.5 0.9]
                                     [--workloads template steady cel partitions]

The `large` farm (500 nodes x 8 GPUs) is deployed with `--virtual-nodes` on the shared local cluster: the
real node serves its first node, kwok keeps the other 499 Ready, drafarm publishes their 3992 GPUs.
Modelled on upstream's scheduler_perf DRA workloads, each pod gets one GPU from its own claim (a
ResourceClaimTemplate), tolerates the virtual nodes' taint and selects them:

- template: N pods created at once; scheduling throughput (pods bound per second: average and
  percentiles of the per-second counts over the measured phase), claim created -> allocated, pod
  created -> Running;
- steady: the virtual GPUs filled to 50% and to 90%, then churn (a pod deleted and a new one created,
  `--churn-rate` per second for `--churn-seconds`), the same figures over the churn;
- cel: the template workload with a CEL selector on the devices' memory capacity;
- partitions: the template workload on the same farm with partitionable GPUs (every GPU's partitions
  consume its shared counters), a partition per pod (deployed last: it replaces the farm).

CPU (cores used) and memory of etcd, the API server, the scheduler, the controller manager, kwok and
drafarm's plugin over each phase. The run's own `small` farm comes back afterwards.
Targets on 2 cores: >= 50 pods/s on the template workload, claim allocation p99 <= 1 s in the steady state
(half full, churning: ClusterLoader2's DRA test measures it under a steady pod rate; a burst of pods
created at once measures the scheduler's queue instead), drafarm's plugin below 10% of the CPU used.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import (
    Target,
    figure,
    latency_summary_ms,
    percentile,
    print_summary,
    results_document,
    write_results,
)
from benchmarks.procfs import cpu_seconds, memory_status
from benchmarks.scale_plot import write_page
from benchmarks.scale_watch import Recorder
from clusters import paths, shared
from clusters.local import farm as local_farm
from clusters.local import processes
from clusters.local import virtual as local_virtual
from clusters.local.components import COMPONENTS
from clusters.local.provider import LocalProvider
from clusters.polling import poll
from clusters.virtual.api import JsonApi
from clusters.virtual.nodes import gpu_workload_pod
from fakedevices.farm import open_farm
from fakedevices.farmspec.loader import resolve_spec_path

RUN_FARM = "small"
CREATORS = 8
TARGETS = (
    Target("template pods/s", "template.pods_per_s", 50.0, "pods/s", at_most=False),
    Target("claim allocation p99", "steady.fill_50.claim_allocation.p99_ms", 1000.0, "ms", at_most=True),
    Target("drafarm CPU share", "template.cpu.drafarm_share_pct", 10.0, "%", at_most=True),
)


class Workload:
    """One namespace of benchmark pods, each with a claim for one virtual GPU from a template."""

    def __init__(self, provider: LocalProvider, driver: str, selector: str, device_type: str = "gpu") -> None:
        self.provider = provider
        self.kubeconfig = provider.kubeconfig()
        self.api = JsonApi(self.kubeconfig)
        self.namespace = f"scale-{uuid.uuid4().hex[:6]}"
        self.klass = f"{self.namespace}-gpu"
        self.serial = 0
        self.live: list[str] = []
        cel = f'device.driver == "{driver}" && device.attributes["{driver}"].type == "{device_type}"'
        self.api.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                               "metadata": {"name": self.namespace}})  # fmt: skip
        self.api.create("/apis/resource.k8s.io/v1/deviceclasses", {
            "apiVersion": "resource.k8s.io/v1", "kind": "DeviceClass", "metadata": {"name": self.klass},
            "spec": {"selectors": [{"cel": {"expression": cel + (f" && {selector}" if selector else "")}}]},
        })  # fmt: skip
        self.api.create(f"/apis/resource.k8s.io/v1/namespaces/{self.namespace}/resourceclaimtemplates", {
            "apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate", "metadata": {"name": "gpu"},
            "spec": {"spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": self.klass}}]}}},
        })  # fmt: skip
        self.recorder = Recorder(self.kubeconfig, self.namespace)
        self.recorder.start()

    def pod(self, name: str) -> dict[str, Any]:
        return gpu_workload_pod(name, {"type": "kwok"}, "gpu")

    def create(self, count: int) -> list[str]:
        names = [f"p{self.serial + i}" for i in range(count)]
        self.serial += count
        collection = f"/api/v1/namespaces/{self.namespace}/pods"

        def one(name: str) -> None:
            self.recorder.mark_created(name)
            self.api.create(collection, self.pod(name))

        with ThreadPoolExecutor(CREATORS) as pool:
            list(pool.map(one, names))
        self.live += names
        return names

    def delete(self, names: Sequence[str]) -> None:
        with ThreadPoolExecutor(CREATORS) as pool:
            list(pool.map(lambda n: self.api.delete(f"/api/v1/namespaces/{self.namespace}/pods/{n}", 0), names))
        gone = set(names)
        self.live = [n for n in self.live if n not in gone]

    def wait_running(self, names: Sequence[str], timeout: float) -> list[str]:
        """Wait until every pod runs, or `timeout`; the pods not Running then (the figures cover the rest)."""

        def missing() -> list[str]:
            running = self.recorder.running
            return [n for n in names if n not in running]

        return poll(missing, timeout, 0.2, done=lambda left: not left)

    def close(self) -> None:
        self.recorder.stop()
        self.api.delete(f"/api/v1/namespaces/{self.namespace}")
        self.api.delete(f"/apis/resource.k8s.io/v1/deviceclasses/{self.klass}")
        self.api.close()


def throughput(bound: Sequence[float], since: float) -> dict[str, float]:
    """Pods bound per second over [since, last binding]: the average, and percentiles of per-second counts."""
    if not bound:
        return {"average": 0.0, "p50": 0.0, "p90": 0.0, "p99": 0.0}
    last = max(bound)
    seconds = max(1, int(last - since) + 1)
    buckets = [0] * seconds
    for t in bound:
        buckets[min(seconds - 1, max(0, int(t - since)))] += 1
    window = max(last - since, 1e-3)
    return {
        "average": round(len(bound) / window, 1),
        "p50": float(percentile(buckets, 50)),
        "p90": float(percentile(buckets, 90)),
        "p99": float(percentile(buckets, 99)),
    }


class CpuMeter:
    """Cores used by each control-plane process, kwok and drafarm's plugin between start and stop."""

    def __init__(self, provider: LocalProvider, fleet: str) -> None:
        layout = provider.layout
        self.pids = {c: processes.read_pid(layout, c) for c in COMPONENTS if c not in ("containerd", "kubelet")}
        self.pids["drafarm-plugin"] = processes.read_pid(layout, local_farm.PLUGIN)
        self.pids["kwok"] = local_virtual.fleet(provider.cfg, layout, fleet).kwok.pid()
        self.pids["bench-client"] = os.getpid()  # the load: creating pods, watching pods and claims
        self.started = 0.0
        self.before: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        out = {}
        for name, pid in self.pids.items():
            if pid is not None:
                try:
                    out[name] = cpu_seconds(pid)
                except OSError:
                    continue
        return out

    def start(self) -> None:
        self.started, self.before = time.monotonic(), self._now()

    def stop(self) -> dict[str, Any]:
        wall = max(time.monotonic() - self.started, 1e-3)
        after = self._now()
        cores = {n: round((after[n] - self.before.get(n, after[n])) / wall, 3) for n in after}
        total = sum(cores.values()) or 1e-9
        memory = {}
        for name, pid in self.pids.items():
            if pid is not None:
                try:
                    memory[name] = memory_status(pid).get("VmRSS_mb")
                except OSError:
                    continue
        return {
            "cores": cores,
            "rss_mb": memory,
            "drafarm_share_pct": round(100 * cores.get("drafarm-plugin", 0.0) / total, 2),
        }


def measured(workload: Workload, names: Sequence[str], since: float) -> dict[str, Any]:
    rec = workload.recorder
    pods = set(names)
    bound = [t for n, t in rec.scheduled.items() if n in pods]
    claims = {c: t for c, t in rec.claim_created.items() if c.split("-gpu-")[0] in pods}
    allocation = [rec.allocated[c] - t for c, t in claims.items() if c in rec.allocated]
    to_running = [rec.running[n] - rec.created[n] for n in names if n in rec.running and n in rec.created]
    rate = throughput(bound, since)
    allocated_at = [(rec.allocated[c], rec.allocated[c] - t) for c, t in claims.items() if c in rec.allocated]
    return {
        "pods": len(names),
        "pods_per_s": rate["average"],
        "scheduling_throughput": rate,
        "claim_allocation": latency_summary_ms(allocation) if allocation else {},
        "pod_to_running": latency_summary_ms(to_running) if to_running else {},
        "timeline": timeline(bound, allocated_at, since),
    }


def timeline(bound: Sequence[float], allocated: Sequence[tuple[float, float]], since: float) -> list[dict[str, Any]]:
    """Per second of the phase: pods bound, and the median allocation latency of the claims allocated then."""
    last = max([*bound, *(t for t, _ in allocated)], default=since)
    seconds = int(last - since) + 1
    counts = [0] * seconds
    latencies: list[list[float]] = [[] for _ in range(seconds)]
    for t in bound:
        counts[min(seconds - 1, max(0, int(t - since)))] += 1
    for t, latency in allocated:
        latencies[min(seconds - 1, max(0, int(t - since)))].append(latency * 1000)
    return [
        {
            "second": i,
            "bound": counts[i],
            "allocation_p50_ms": round(percentile(latencies[i], 50), 1) if latencies[i] else None,
        }
        for i in range(seconds)
    ]


def template_phase(workload: Workload, meter: CpuMeter, pods: int, timeout: float) -> dict[str, Any]:
    meter.start()
    since = time.monotonic()
    names = workload.create(pods)
    missing = workload.wait_running(names, timeout)
    figures = measured(workload, names, since)
    figures["not_running_at_timeout"] = len(missing)
    figures["cpu"] = meter.stop()
    workload.delete(names)
    return figures


def steady_phase(
    workload: Workload, meter: CpuMeter, capacity: int, fill: float, rate: float, seconds: float, timeout: float
) -> dict[str, Any]:
    base = workload.create(int(capacity * fill))
    workload.wait_running(base, timeout)
    meter.start()
    since = time.monotonic()
    churned: list[str] = []
    interval = 1.0 / rate
    next_at = since
    while time.monotonic() - since < seconds:
        victim = workload.live[0]
        workload.delete([victim])
        churned += workload.create(1)
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))  # hold the churn rate
    workload.wait_running(churned, timeout)
    figures = measured(workload, churned, since)
    figures["fill"] = fill
    figures["cpu"] = meter.stop()
    workload.delete(list(workload.live))
    return figures


def run(
    args: argparse.Namespace, say: Callable[[str], None], save: Callable[[dict[str, Any]], object] | None = None
) -> dict[str, Any]:
    """Every workload in turn; `save` gets the results document after each one (a long run interrupted
    keeps what it measured)."""
    started = time.monotonic()
    provider = LocalProvider()
    root = paths.state_root()
    shared.acquire(provider, root)
    figures: dict[str, Any] = {}

    def document() -> dict[str, Any]:
        targets = {t.name: t.check(figure(figures, t.figure)) for t in TARGETS}
        parameters = {"farm": args.farm, "pods": args.pods, "churn_rate": args.churn_rate, "fills": list(args.fills),
                      "churn_seconds": args.churn_seconds, "workloads": list(args.workloads)}  # fmt: skip
        return results_document("scale", parameters, figures, targets, started=started)

    try:
        source = open_farm(args.farm, rest_virtual=True)
        say(f"deploying farm {source.farm.name} with virtual nodes")
        up = time.monotonic()
        provider.deploy_farm(source, say)
        figures["virtual_nodes_up_s"] = round(time.monotonic() - up, 1)
        virtual = local_virtual.virtual_nodes(source)
        capacity = sum(sum(1 for d in n.devices if d.kind == "gpu") for n in virtual)
        figures["virtual_nodes"] = len(virtual)
        figures["virtual_gpus"] = capacity
        meter = CpuMeter(provider, source.farm.name)
        driver = source.farm.driver
        # the partitions workload deploys a farm of its own: it goes last
        for name in sorted(args.workloads, key=lambda w: w == "partitions"):
            if name == "partitions":
                figures[name] = partitions_phase(provider, args, say)
                if save is not None:
                    save(document())
                continue
            workload = Workload(provider, driver, _selector(name, driver))
            try:
                if name in ("template", "cel"):
                    say(f"workload {name}: {min(args.pods, capacity)} pods at once")
                    figures[name] = template_phase(workload, meter, min(args.pods, capacity), args.timeout)
                    say(f"workload {name}: {figures[name]['pods_per_s']} pods/s")
                elif name == "steady":
                    figures[name] = {}
                    for fill in args.fills:
                        say(f"workload steady: fill to {fill:.0%} of {capacity} GPUs, churn {args.churn_rate}/s")
                        figures[name][f"fill_{int(fill * 100)}"] = steady_phase(
                            workload, meter, capacity, fill, args.churn_rate, args.churn_seconds, args.timeout
                        )
            finally:
                workload.close()
            if save is not None:
                save(document())
    finally:
        try:
            provider.deploy_farm(open_farm(RUN_FARM))
        finally:
            shared.release(provider, root)
    return document()


def partitions_phase(provider: LocalProvider, args: argparse.Namespace, say: Callable[[str], None]) -> dict[str, Any]:
    """The template workload on the same farm with partitionable GPUs: each pod takes one partition, from
    counters the GPU's partitions share (DRAPartitionableDevices)."""
    document: dict[str, Any] = yaml.safe_load(resolve_spec_path(args.farm).read_text())
    document["metadata"]["name"] = f"{document['metadata']['name']}-partitions"
    for group in document["spec"]["nodeGroups"]:
        if "gpu" in group.get("devices", {}):
            group["devices"]["gpu"]["partitions"] = True
    with tempfile.TemporaryDirectory(prefix="drafarm-scale-") as directory:  # the plugin reads the spec too
        spec = Path(directory) / "partitions.yaml"
        spec.write_text(yaml.safe_dump(document))
        source = open_farm(spec, rest_virtual=True)
        say(f"workload partitions: deploying farm {source.farm.name} (partitionable GPUs) with virtual nodes")
        provider.deploy_farm(source, say)
        virtual = local_virtual.virtual_nodes(source)
        types = [d.to_api()["attributes"].get("type", {}).get("string") for n in virtual for d in n.devices]
        partitions = types.count("partition")
        workload = Workload(provider, source.farm.driver, "", device_type="partition")
        try:
            pods = min(args.pods, partitions)
            say(f"workload partitions: {pods} pods at once, {partitions} partitions of {types.count('gpu')} GPUs")
            figures = template_phase(workload, CpuMeter(provider, source.farm.name), pods, args.timeout)
        finally:
            workload.close()
            provider.deploy_farm(open_farm(RUN_FARM))  # before the spec goes
    figures["virtual_devices"] = len(types)
    figures["virtual_partitions"] = partitions
    say(f"workload partitions: {figures['pods_per_s']} pods/s")
    return figures


def _selector(workload: str, driver: str) -> str:
    if workload == "cel":
        return f'device.capacity["{driver}"].memory.compareTo(quantity("40Gi")) >= 0'
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("results/bench-scale.json"))
    parser.add_argument("--farm", default="large")
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--churn-rate", type=float, default=5.0)
    parser.add_argument("--churn-seconds", type=float, default=30.0)
    parser.add_argument("--fills", type=float, nargs="+", default=[0.5, 0.9], help="steady: fill levels (0..1)")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--workloads", nargs="+", choices=("template", "steady", "cel", "partitions"),
                        default=["template", "steady", "cel", "partitions"])  # fmt: skip
    args = parser.parse_args(argv)
    document = run(args, lambda text: print(text, flush=True), lambda doc: write_results(args.out, doc))
    write_results(args.out, document)
    plots = write_page(document, args.out.with_suffix(".html"))
    print_summary(document)
    print(f"results: {args.out}, plots: {plots}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
