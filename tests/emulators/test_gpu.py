"""GPU emulator through the in-container client over real unix sockets."""

from __future__ import annotations

import pytest

from fakedevices.emulator import EmulatorRunner, Health, SessionError
from fakedevices.kinds.gpu.emulator import GpuEmulator
from tests.emulators.conftest import GPU, ClientRun, GiB, MiB


def test_identity_and_session_share(runner: EmulatorRunner, client: ClientRun) -> None:
    endpoint = runner.get_as("gpu-0", GpuEmulator).open_session("claim-a", memory_bytes=2 * GiB)

    result = client("gpu-info", env=endpoint.container_env())

    assert result.returncode == 0, result
    info = result.output
    assert (info["name"], info["uuid"], info["model"], info["index"]) == (GPU.name, GPU.uuid, GPU.model, 0)
    assert info["memory_bytes"] == GPU.memory_bytes
    assert info["driver_version"] == GPU.driver_version
    assert info["health"] == "healthy"
    assert info["session"]["id"] == "claim-a"
    assert info["session"]["memory_bytes"] == 2 * GiB
    assert info["session"]["sharing"] == "exclusive"


@pytest.mark.parametrize(("job", "n", "expected"), [("sum-squares", 100, 338350), ("matmul", 4, 494)])
def test_compute_job_result(runner: EmulatorRunner, client: ClientRun, job: str, n: int, expected: int) -> None:
    endpoint = runner.get_as("gpu-0", GpuEmulator).open_session("claim-a")

    result = client("gpu-run", "--job", job, "--n", str(n), "--check", env=endpoint.container_env())

    assert result.returncode == 0, result
    assert result.output["result"] == expected
    assert result.output["uuid"] == GPU.uuid


def test_memory_beyond_share_refused(runner: EmulatorRunner, client: ClientRun) -> None:
    endpoint = runner.get_as("gpu-0", GpuEmulator).open_session("claim-a", memory_bytes=1 * GiB)
    env = endpoint.container_env()

    over = client("gpu-alloc", "512Mi", "768Mi", env=env)

    assert over.returncode == 1, over
    assert "share is 1073741824 bytes" in over.output["error"]
    assert [a["bytes"] for a in over.output["allocations"]] == [512 * MiB]
    assert over.output["refused_bytes"] == 768 * MiB
    # Memory belongs to the connection (the process): it was freed when the client exited.
    within = client("gpu-alloc", "512Mi", "512Mi", env=env)
    assert within.returncode == 0, within
    assert within.output["allocations"][-1]["free_bytes"] == 0
    assert client("gpu-alloc", "1Gi", "1", env=env).returncode == 1


def test_time_slicing_and_partition_visible(runner: EmulatorRunner, client: ClientRun) -> None:
    gpu = runner.get_as("gpu-0", GpuEmulator)
    sliced = gpu.open_session("claim-ts", sharing="time-sliced", time_slice="short")
    other = gpu.open_session("claim-ts2", sharing="time-sliced")
    part = gpu.open_session("claim-mig", sharing="partition", partition="1g.10gb", memory_bytes=1 * GiB)

    results = [client("gpu-info", env=e.container_env()) for e in (sliced, other, part)]

    assert all(r.returncode == 0 for r in results), results
    sessions = [r.output["session"] for r in results]
    assert [(s["id"], s["sharing"]) for s in sessions] == [
        ("claim-ts", "time-sliced"),
        ("claim-ts2", "time-sliced"),
        ("claim-mig", "partition"),
    ]
    assert sessions[0]["time_slice"] == "short"
    assert sessions[1]["time_slice"] == "default"
    assert sessions[2]["partition"] == "1g.10gb"
    run = client("gpu-run", "--check", env=part.container_env())
    assert run.returncode == 0, run
    assert (run.output["sharing"], run.output["partition"]) == ("partition", "1g.10gb")


def test_exclusive_session_conflicts_and_idempotent_open(runner: EmulatorRunner) -> None:
    gpu = runner.get_as("gpu-0", GpuEmulator)
    first = gpu.open_session("claim-a")
    assert gpu.open_session("claim-a") == first  # prepare retried: same endpoint
    with pytest.raises(SessionError, match="held exclusively by session 'claim-a'"):
        gpu.open_session("claim-b", sharing="time-sliced")
    with pytest.raises(SessionError, match="already open"):
        gpu.open_session("claim-a", memory_bytes=GiB)
    with pytest.raises(SessionError, match="unknown session limit"):
        gpu.open_session("claim-c", colour="red")
    gpu.close_session("claim-a")
    gpu.close_session("claim-a")  # unprepare retried: no-op
    assert first.socket_path is not None and not first.socket_path.exists()


def test_unhealthy_gpu_fails_jobs_then_recovers(runner: EmulatorRunner, client: ClientRun) -> None:
    gpu = runner.get_as("gpu-0", GpuEmulator)
    env = gpu.open_session("claim-a").container_env()
    seen: list[Health] = []
    gpu.add_health_listener(lambda _emulator, health, _reason: seen.append(health))

    gpu.set_health(Health.UNHEALTHY, "Xid 79: fell off the bus")
    failed = client("gpu-run", env=env)
    info = client("gpu-info", env=env)
    gpu.set_health("healthy")
    recovered = client("gpu-run", "--check", env=env)

    assert failed.returncode == 1, failed
    assert "unhealthy (Xid 79: fell off the bus)" in failed.output["error"]
    assert info.returncode == 0 and info.output["health"] == "unhealthy"
    assert recovered.returncode == 0, recovered
    assert seen == [Health.UNHEALTHY, Health.HEALTHY]


def test_device_socket_answers_info_but_not_session_ops(runner: EmulatorRunner, client: ClientRun) -> None:
    gpu = runner.get_as("gpu-0", GpuEmulator)

    info = client("gpu-info", "--socket", str(gpu.device_socket), env={})
    alloc = client("gpu-alloc", "1Mi", "--socket", str(gpu.device_socket), env={})

    assert info.returncode == 0 and info.output["uuid"] == GPU.uuid and info.output["sessions"] == 0
    assert alloc.returncode == 1 and "needs a session" in alloc.output["error"]
