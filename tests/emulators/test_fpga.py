"""FPGA emulator: bitstreams, programming time, functions, health, through the in-container client."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import zlib
from pathlib import Path

import pytest

from fakedevices.emulator import EmulatorRunner, Health, SessionError
from fakedevices.kinds.fpga.emulator import Bitstream, BitstreamError, FpgaEmulator
from tests.emulators.conftest import FPGA, ClientRun


def bitstream(name: str, family: str = FPGA.family) -> Bitstream:
    return Bitstream(name=name, family=family, sha256=hashlib.sha256(name.encode()).hexdigest())


def test_loaded_bitstream_and_its_function(runner: EmulatorRunner, client: ClientRun) -> None:
    fpga = runner.get_as("fpga-0", FpgaEmulator)
    env = fpga.open_session("claim-a").container_env()
    fpga.program("claim-a", bitstream("crc32-v1.2"))

    info = client("fpga-info", env=env)
    crc = client("fpga-run", "--input", "hello drafarm", "--check", env=env)

    assert info.returncode == 0, info
    assert info.output["serial"] == FPGA.serial and info.output["family"] == FPGA.family
    loaded = info.output["session"]
    assert loaded["state"] == "loaded"
    assert loaded["bitstream"]["name"] == "crc32-v1.2" and loaded["bitstream"]["function"] == "crc32"
    assert crc.returncode == 0, crc
    assert crc.output["output"] == zlib.crc32(b"hello drafarm")
    assert crc.output["function"] == "crc32"


def test_each_session_runs_its_own_function(runner: EmulatorRunner, client: ClientRun) -> None:
    fpga = runner.get_as("fpga-0", FpgaEmulator)
    add_env = fpga.open_session("claim-add").container_env()
    rev_env = fpga.open_session("claim-rev").container_env()
    jobs = [
        fpga.start_program("claim-add", bitstream("vector-add")),
        fpga.start_program("claim-rev", bitstream("reverse")),
    ]
    results = [job.wait(10) for job in jobs]

    added = client("fpga-run", "--json", "--input", json.dumps({"a": [1, 2, 3], "b": [10, 20, 30]}), env=add_env)
    reversed_ = client("fpga-run", "--input", "drafarm", env=rev_env)

    assert sorted(r.region for r in results) == [0, 1]
    assert added.returncode == 0 and added.output["output"] == [11, 22, 33], added
    assert reversed_.returncode == 0 and reversed_.output["output"] == "mrafard", reversed_
    with pytest.raises(SessionError, match="all 2 reconfigurable regions are in use"):
        fpga.open_session("claim-third")


def test_wrong_family_bitstream_rejected(runner: EmulatorRunner, client: ClientRun) -> None:
    fpga = runner.get_as("fpga-0", FpgaEmulator)
    env = fpga.open_session("claim-a").container_env()

    with pytest.raises(BitstreamError, match="targets family 'versal' but fpga fpga-0 is family 'agilex7'"):
        fpga.program("claim-a", bitstream("sha256", family="versal"))
    with pytest.raises(BitstreamError, match="implements no known function"):
        fpga.program("claim-a", bitstream("mystery-core"))

    info = client("fpga-info", env=env)
    run = client("fpga-run", "--input", "x", env=env)
    assert info.output["session"]["state"] == "empty" and "bitstream" not in info.output["session"]
    assert run.returncode == 1 and "no bitstream is loaded" in run.output["error"], run


def test_programming_delay_honoured(runner: EmulatorRunner, client: ClientRun) -> None:
    fpga = runner.get_as("fpga-0", FpgaEmulator)
    env = fpga.open_session("claim-a").container_env()

    started = time.monotonic()
    result = fpga.program("claim-a", bitstream("sha256-fast"))
    elapsed = time.monotonic() - started

    assert elapsed >= FPGA.program_seconds
    assert result.seconds >= FPGA.program_seconds
    info = client("fpga-info", env=env)
    assert info.output["session"]["programmed_seconds"] >= FPGA.program_seconds
    run = client("fpga-run", "--input", "abc", "--check", env=env)
    assert run.returncode == 0, run
    assert run.output["output"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    # Programming the loaded bitstream again (a retried prepare) is immediate and keeps it.
    assert fpga.program("claim-a", bitstream("sha256-fast")).seconds == result.seconds
    with pytest.raises(BitstreamError, match="stays until the session closes"):
        fpga.program("claim-a", bitstream("crc32"))


def test_runs_refused_while_programming_and_close_aborts(state_dir: Path, client: ClientRun) -> None:
    slow = dataclasses.replace(FPGA, name="fpga-slow", program_seconds=60.0)
    fpga = FpgaEmulator(slow, state_dir)
    with fpga:
        env = fpga.open_session("claim-a").container_env()
        job = fpga.start_program("claim-a", bitstream("reverse"))

        info = client("fpga-info", env=env)
        run = client("fpga-run", "--input", "x", env=env)
        fpga.close_session("claim-a")

        assert info.output["session"]["state"] == "programming"
        assert run.returncode == 1 and "programming is still in progress" in run.output["error"], run
        with pytest.raises(SessionError, match="closed while programming"):
            job.wait(10)


def test_unhealthy_fpga_fails_runs(runner: EmulatorRunner, client: ClientRun) -> None:
    fpga = runner.get_as("fpga-0", FpgaEmulator)
    env = fpga.open_session("claim-a").container_env()
    fpga.program("claim-a", bitstream("reverse"))

    fpga.set_health(Health.UNHEALTHY, "PCIe link down")
    failed = client("fpga-run", "--input", "abc", env=env)
    fpga.set_health(Health.HEALTHY)
    ok = client("fpga-run", "--input", "abc", env=env)

    assert failed.returncode == 1 and "unhealthy (PCIe link down)" in failed.output["error"], failed
    assert ok.returncode == 0 and ok.output["output"] == "cba", ok
