"""The farm's plugin on the real local cluster: the real kubelet registers it and prepares claims; the
real containerd injects the CDI devices; the workload uses its device through the in-container client."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from clusters.local.provider import LocalProvider
from clusters.log_tail import log_tail
from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.model import Device
from fakedevices.plugin.layout import DYNAMIC_CDI_DIR
from harness import builders as b
from harness.kube import Kube
from harness.waiters import Waiter

pytestmark = pytest.mark.e2e
DRIVER = "drafarm.dev"
IMAGE = "drafarm.local/workload:1"
SHA = "5" * 64


def _class(kube: Kube, kind: str) -> str:
    name = f"e2e-{kind}.drafarm.dev"
    kube.ensure(
        b.device_class(name, cel=f'device.driver == "{DRIVER}" && device.attributes["{DRIVER}"].type == "{kind}"')
    )
    return name


def _farm_device(pool: str, name: str) -> Device:
    farm = build_farm(load_farm_spec("small"))
    for _, device in farm.all_devices():
        if device.name == name:
            return device
    raise AssertionError(f"{pool}/{name} is not a device of the small farm")


def _run_pod(kube: Kube, ns: str, name: str, claim: dict[str, Any], script: str) -> tuple[str, dict[str, Any]]:
    kube.create({**claim, "metadata": {**claim["metadata"], "namespace": ns}})
    claim_name = claim["metadata"]["name"]
    kube.create(
        b.pod(
            name,
            b.container("main", ["sh", "-c", script], claims=["dev"]),
            claims={"dev": claim_name},
            image=IMAGE,
            namespace=ns,
        )
    )
    waiter = Waiter(kube, ns, plugin_log=_plugin_log)
    allocated = waiter.claim_allocated(claim_name)
    logs = waiter.pod_succeeded(name, timeout=120)
    return logs, allocated


def _plugin_log() -> str:
    from clusters import paths

    log = paths.state_root() / "drafarm" / "logs" / "drafarm-plugin.log"
    return log_tail(log, 20)


def _result(claim: dict[str, Any]) -> dict[str, Any]:
    [res] = claim["status"]["allocation"]["devices"]["results"]
    return dict(res)


def _json_lines(logs: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in logs.splitlines() if line.startswith("{")]


def test_slices_published_for_the_node(hkube: Kube, farm_cluster: LocalProvider) -> None:
    [node] = farm_cluster.nodes()
    slices = hkube.items("ResourceSlice", fields={"spec.driver": DRIVER})
    node_slices = [s for s in slices if s["spec"].get("nodeName") == node]
    devices = {d["name"] for s in node_slices for d in s["spec"].get("devices", [])}
    farm = build_farm(load_farm_spec("small"))
    assert devices == {d.name for d in farm.nodes[0].devices}
    assert {s["spec"]["pool"]["resourceSliceCount"] for s in node_slices} == {len(node_slices)}
    assert any(s["spec"]["pool"]["name"] == "lobby" for s in slices)


def test_gpu_pod_runs_a_job_on_its_gpu_and_unprepare_removes_the_cdi_spec(hkube: Kube, namespace: str) -> None:
    claim = b.claim("gpu", b.request("gpu", _class(hkube, "gpu")))
    logs, allocated = _run_pod(
        hkube,
        namespace,
        "gpu-job",
        claim,
        "env | grep DRAFARM_; ls /dev/drafarm; python3 -m fakedevices.client gpu-run --n 100 --check",
    )
    result = _result(allocated)
    device = _farm_device(result["pool"], result["device"])
    job = _json_lines(logs)[-1]
    assert job["result"] == 338350
    assert job["uuid"] == device.attributes["uuid"].value
    assert "/dev/drafarm" not in logs or result["device"] in logs
    uid = allocated["metadata"]["uid"]
    Waiter(hkube, namespace).until(
        "the claim's CDI spec to be removed after the pod finished",
        lambda: not list(DYNAMIC_CDI_DIR.glob(f"*{uid}*.json")),
        60,
    )


def test_fpga_pod_runs_its_bitstream_function(hkube: Kube, namespace: str) -> None:
    bitstream = {
        "apiVersion": "drafarm.dev/v1alpha1",
        "kind": "FpgaConfig",
        "bitstream": {"name": "reverse", "family": "agilex7", "sha256": SHA},
    }
    claim = b.claim("fpga", b.request("fpga", _class(hkube, "fpga")), config=[b.opaque(DRIVER, bitstream)])
    logs, _ = _run_pod(
        hkube, namespace, "fpga-job", claim, "python3 -m fakedevices.client fpga-run --input drafarm --check"
    )
    assert _json_lines(logs)[-1]["output"] == "mrafard"


def test_camera_pod_gets_frames_from_the_allocated_camera(hkube: Kube, namespace: str) -> None:
    claim = b.claim("cam", b.request("cam", _class(hkube, "camera")))
    logs, allocated = _run_pod(
        hkube, namespace, "viewer", claim, "python3 -m fakedevices.client camera-frames --count 3 --check"
    )
    result = _result(allocated)
    summary = _json_lines(logs)[-1]
    assert summary["camera"] == result["device"]
    assert summary["serial"] == _farm_device(result["pool"], result["device"]).attributes["serial"].value
    assert summary["counters_increasing"] is True


def test_deleted_slices_come_back_within_5_seconds(hkube: Kube, farm_cluster: LocalProvider) -> None:
    [node] = farm_cluster.nodes()
    before = hkube.items("ResourceSlice", fields={"spec.driver": DRIVER, "spec.nodeName": node})
    victim = before[0]["metadata"]["name"]
    hkube.delete("ResourceSlice", victim)
    started = time.monotonic()
    Waiter(hkube, "default").until(
        f"slice {victim} to be republished", lambda: hkube.get("ResourceSlice", victim) is not None, 30
    )
    assert time.monotonic() - started <= 5.0
    after = hkube.items("ResourceSlice", fields={"spec.driver": DRIVER, "spec.nodeName": node})
    assert len({s["spec"]["pool"]["generation"] for s in after}) == 1
    assert after[0]["spec"]["pool"]["generation"] > before[0]["spec"]["pool"]["generation"]


def test_bad_opaque_config_is_a_prepare_event_naming_the_field(hkube: Kube, namespace: str) -> None:
    bad = {"apiVersion": "drafarm.dev/v1alpha1", "kind": "GpuConfig", "sharing": {"strategy": "Magic"}}
    claim = b.claim("bad", b.request("gpu", _class(hkube, "gpu")), config=[b.opaque(DRIVER, bad)])
    hkube.create({**claim, "metadata": {"name": "bad", "namespace": namespace}})
    hkube.create(
        b.pod(
            "bad-config",
            b.container("main", ["true"], claims=["dev"]),
            claims={"dev": "bad"},
            image=IMAGE,
            namespace=namespace,
        )
    )
    event = Waiter(hkube, namespace).event("bad-config", "FailedPrepareDynamicResources", "sharing.strategy", 90)
    assert 'got "Magic"' in event["message"]
    assert f"claim {namespace}/bad" in event["message"]
