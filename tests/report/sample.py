"""A realistic sample run and cluster state for the report tests.

`python -m tests.report.sample OUT.html` writes the sample report (to look at it in a browser).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from harness.report.html import render_html
from harness.report.results import RunReport, TestResult
from harness.report.snapshot import snapshot_from_cluster

GPU = "gpu.drafarm.dev"
CAM = "camera.drafarm.dev"


def attr(value: str) -> dict[str, str]:
    return {"string": value}


def node_slice(node: str, devices: list[dict[str, Any]], generation: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "ResourceSlice",
        "metadata": {"name": f"{node}-{GPU}-0"},
        "spec": {
            "driver": GPU,
            "nodeName": node,
            "pool": {"name": node, "generation": generation, "resourceSliceCount": 1},
            "devices": devices,
        },
    }


def gpu(name: str, kind: str = "gpu", **extra: Any) -> dict[str, Any]:
    return {"name": name, "attributes": {"kind": attr(kind), "type": attr("gpu")}, **extra}


def claim(namespace: str, name: str, *results: tuple[str, str, str], reserved: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "ResourceClaim",
        "metadata": {"namespace": namespace, "name": name},
        "status": {
            "allocation": {
                "devices": {
                    "results": [
                        {"request": "r", "driver": driver, "pool": pool, "device": device}
                        for driver, pool, device in results
                    ]
                }
            },
            "reservedFor": [{"resource": "pods", "name": f"pod-{i}", "uid": str(i)} for i in range(reserved)],
        },
    }


def sample_cluster() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    slices = [
        node_slice(
            "worker-a",
            [gpu(f"gpu-{i}") for i in range(4)] + [gpu(f"gpu-0-mig-1g-{i}") for i in range(6)],
        ),
        node_slice("worker-b", [gpu(f"gpu-{i}") for i in range(4)] + [gpu(f"fpga-{i}", "fpga") for i in range(2)]),
        node_slice("worker-c", [gpu(f"gpu-{i}") for i in range(2)]),
        {
            "apiVersion": "resource.k8s.io/v1",
            "kind": "ResourceSlice",
            "metadata": {"name": "cameras-0"},
            "spec": {
                "driver": CAM,
                "nodeSelector": {
                    "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["lab"]}]}]
                },
                "pool": {"name": "lab-cameras", "generation": 3, "resourceSliceCount": 1},
                "devices": [
                    {"name": f"lab-cam-{i}", "attributes": {"kind": attr("camera")}, "allowMultipleAllocations": True}
                    for i in range(5)
                ],
            },
        },
    ]
    claims = [
        claim("alloc-1", "one-gpu", (GPU, "worker-a", "gpu-1")),
        claim("alloc-2", "two-gpus", (GPU, "worker-b", "gpu-0"), (GPU, "worker-b", "gpu-1")),
        claim("share-1", "shared-by-pods", (GPU, "worker-a", "gpu-2"), reserved=3),
        claim("share-2", "timeslice-a", (GPU, "worker-b", "gpu-3")),
        claim("share-3", "timeslice-b", (GPU, "worker-b", "gpu-3")),
        claim("cams", "stream", (CAM, "lab-cameras", "lab-cam-0")),
        claim("fpga", "bitstream", (GPU, "worker-b", "fpga-1")),
        claim("mig", "slice", (GPU, "worker-a", "gpu-0-mig-1g-2")),
    ]
    health = {f"{GPU}/worker-c/gpu-1": "Unhealthy", "lab-cam-4": "unreachable"}
    return slices, claims, health


FAILURE_TEXT = """\
    def test_selector_on_capacity(hkube, claims):
        claim = claims.create(device_class="gpu.drafarm.dev", selector='device.capacity["gpu.drafarm.dev"]...')
>       wait.claim_allocated(claim, timeout=30)
E       harness.waiters.WaitTimeout: claim alloc-7/big-gpu not allocated after 30 s
E         status: {'allocation': None} <pending>
E         events: FailedScheduling: 0/3 nodes are available: 3 cannot allocate all claims

suites/allocation/test_selectors.py:41: WaitTimeout

----- diagnostics -----
plugin log (worker-a, last 3 lines):
  I0101 12:00:01 prepare claim alloc-7/big-gpu
  E0101 12:00:02 no device with memory >= 20Gi & model == "<H100>"
"""


def sample_run() -> RunReport:
    tests: list[TestResult] = []
    plan = {
        ("allocation", "selectors"): ["passed"] * 6 + ["failed"],
        ("allocation", "templates"): ["passed"] * 4,
        ("allocation", "network"): ["passed"] * 2 + ["skipped"],
        ("sharing", "timeslicing"): ["passed"] * 3,
        ("sharing", "partitions"): ["passed"] * 2 + ["skipped"] * 2,
        ("health", "taints"): ["passed"] * 2 + ["error"],
        ("health", "restart"): ["passed"] * 3,
        ("conformance", "registration"): ["passed"] * 2,
        ("conformance", "slices"): ["passed"] * 5,
        ("conformance", "cdi"): ["passed"] * 3 + ["xfailed"],
    }
    for (suite, area), outcomes in plan.items():
        for index, outcome in enumerate(outcomes):
            result = TestResult(
                f"suites/{suite}/test_{area}.py::test_{area}_{index}", suite, area, outcome, 1.5 + index * 0.7
            )
            if outcome == "failed":
                result.diagnostics = FAILURE_TEXT
                result.failed_phase = "call"
                result.worker = "gw1"
            elif outcome == "error":
                result.diagnostics = "E   RuntimeError: taint controller did not evict pod health-3/victim in 60 s"
                result.failed_phase = "setup"
            elif outcome in ("skipped", "xfailed"):
                result.skip_reason = f"DRA feature gate DRAPartitionableDevices is off on the cluster ({area})"
            tests.append(result)
    slices, claims, health = sample_cluster()
    metadata: dict[str, Any] = {
        "kubernetes_version": "v1.34.1",
        "driver": GPU,
        "profile": "drafarm (built-in)",
        "farm": "small",
        "cluster": "local",
        "workers": 2,
        "started": "2025-01-01T12:00:00+00:00",
        "finished": "2025-01-01T12:03:12+00:00",
        "duration_s": 192.4,
    }
    return RunReport(metadata, tests, snapshot_from_cluster(slices, claims, health, taken="2025-01-01T12:03:10+00:00"))


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "sample-report.html")
    out.write_text(render_html(sample_run()), encoding="utf-8")
    print(out.resolve())
