"""`python -m benchmarks.suite_bench`: suite wall time with -n 1 and -n 2, and pod-with-claim to Running.

    python -m benchmarks.suite_bench [--out results/bench-suites.json] [--pods 20] [--suites suites/conformance ...]

Runs on the shared local cluster with the `small` farm (brought up if needed, left as it was found).
Targets on 2 cores: speedup of -n 2 over -n 1 >= 1.6x; pod-with-claim to Running p50 <= 3 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import latency_summary_ms
from clusters import paths, shared
from clusters.local.provider import LocalProvider
from clusters.polling import poll
from fakedevices.farm import open_farm
from harness import builders as b
from harness.kube import Kube

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SUITES = ("suites/conformance", "suites/allocation")
TARGET_SPEEDUP = 1.6
TARGET_P50_S = 3.0


def _running(kube: Kube, name: str, namespace: str) -> Callable[[], bool]:
    """A probe: whether the pod runs."""
    return lambda: ((kube.get("Pod", name, namespace) or {}).get("status") or {}).get("phase") == "Running"


def pod_to_running(kube: Kube, pods: int) -> list[float]:
    """Seconds from creating a pod with a claim (from a template) until it is Running, one pod at a time."""
    ns = f"bench-{uuid.uuid4().hex[:6]}"
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    try:
        poll(lambda: kube.get("ServiceAccount", "default", ns) is not None, 60)
        kube.ensure(
            b.device_class(
                "bench-partition.drafarm.dev",
                cel='device.driver == "drafarm.dev" && device.attributes["drafarm.dev"].type == "partition"',
            )
        )
        kube.create(b.claim_template("part", b.request("gpu", "bench-partition.drafarm.dev"), namespace=ns))
        samples = []
        for i in range(pods):
            name = f"p{i}"
            started = time.monotonic()
            kube.create(
                b.pod(
                    name,
                    b.container("main", ["sleep", "600"], claims=["gpu"]),
                    templates={"gpu": "part"},
                    image="drafarm.local/workload:1",
                    namespace=ns,
                )
            )
            if not poll(_running(kube, name, ns), 120, 0.02):
                raise RuntimeError(f"pod {ns}/{name} not Running after 120 s")
            samples.append(time.monotonic() - started)
            kube.delete("Pod", name, ns, grace=0)
        return samples
    finally:
        kube.delete("Namespace", ns)


def suite_wall_time(workers: int, suites: list[str]) -> tuple[float, int]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(workers), *suites,
         "--drafarm-keep-cluster", "--drafarm-report-dir", ""],
        cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    return time.monotonic() - started, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("results/bench-suites.json"))
    parser.add_argument("--pods", type=int, default=20)
    parser.add_argument("--suites", nargs="*", default=list(DEFAULT_SUITES))
    args = parser.parse_args()
    provider = LocalProvider()
    shared.acquire(provider, paths.state_root())
    try:
        provider.deploy_farm(open_farm("small"))
        kube = Kube(provider.kubeconfig())
        latencies = pod_to_running(kube, args.pods)
        serial, serial_rc = suite_wall_time(1, args.suites)
        parallel, parallel_rc = suite_wall_time(2, args.suites)
    finally:
        shared.release(provider, paths.state_root())
    pods = latency_summary_ms(latencies)
    speedup = serial / parallel if parallel else 0.0
    result: dict[str, Any] = {
        "benchmark": "suites",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": __import__("os").cpu_count(), "python": platform.python_version()},
        "parameters": {"pods": args.pods, "suites": args.suites},
        "pod_with_claim_to_running": pods,
        "suite_wall_seconds": {
            "n1": round(serial, 2),
            "n2": round(parallel, 2),
            "speedup": round(speedup, 2),
            "n1_exit": serial_rc,
            "n2_exit": parallel_rc,
        },
        "targets": {
            "speedup >= 1.6": speedup >= TARGET_SPEEDUP,
            "pod to Running p50 <= 3 s": pods["p50_ms"] <= TARGET_P50_S * 1000,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if all(result["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
