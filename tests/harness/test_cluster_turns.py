"""Cluster turns: an exclusive test waits for the shared ones and goes before shared ones that come later;
a process started inside a turn does not wait for a turn of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.cluster_turns import CLUSTER_NAME_ENV, HELD_ENV, cluster_turn
from tests.file_locks import locked_by_another
from tests.polling import wait_for

HOLD = """
import sys, time
from pathlib import Path
from harness.cluster_turns import cluster_turn
exclusive, directory, log, name = sys.argv[1] == "x", Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
with cluster_turn(exclusive, directory):
    with log.open("a") as f:
        f.write(f"{name} in {time.monotonic()}\\n")
    deadline = time.monotonic() + 30
    while not (directory / f"release-{name}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)  # poll: holds its turn until the test releases it
    with log.open("a") as f:
        f.write(f"{name} out {time.monotonic()}\\n")
"""


def _start(tmp_path: Path, exclusive: bool, name: str, cluster: str = "") -> subprocess.Popen[bytes]:
    """A process that takes its turn on `cluster` (the default name when empty), logs `NAME in`, and keeps
    it until `_release(NAME)`."""
    env = {k: v for k, v in os.environ.items() if k not in (HELD_ENV, CLUSTER_NAME_ENV)}
    env.update({CLUSTER_NAME_ENV: cluster} if cluster else {})
    args = ["x" if exclusive else "s", str(tmp_path), str(tmp_path / "log"), name]
    return subprocess.Popen([sys.executable, "-c", HOLD, *args], env=env)


def _release(tmp_path: Path, name: str) -> None:
    (tmp_path / f"release-{name}").touch()


def _log(tmp_path: Path) -> str:
    return (tmp_path / "log").read_text() if (tmp_path / "log").exists() else ""


def _wait_for_line(tmp_path: Path, text: str) -> None:
    wait_for(lambda: text in _log(tmp_path), 20, f"{text!r} in the log", lambda: _log(tmp_path), interval=0.05)


def _turnstile_taken(tmp_path: Path) -> bool:
    return locked_by_another(tmp_path / "drafarm-cluster.turnstile")


def _order(tmp_path: Path) -> list[str]:
    lines = [line.split() for line in (tmp_path / "log").read_text().splitlines()]
    return [f"{name} {what}" for name, what, _ in sorted(lines, key=lambda parts: float(parts[2]))]


def test_an_exclusive_turn_waits_for_shared_holders_and_goes_before_later_ones(tmp_path: Path) -> None:
    first = _start(tmp_path, False, "a")
    _wait_for_line(tmp_path, "a in")
    restart = _start(tmp_path, True, "x")
    wait_for(lambda: _turnstile_taken(tmp_path), 20, "x to wait, holding the turnstile", lambda: _log(tmp_path))
    later = _start(tmp_path, False, "b")
    for name in ("a", "x", "b"):
        _wait_for_line(tmp_path, f"{name} in")
        _release(tmp_path, name)
    for process in (first, restart, later):
        assert process.wait(30) == 0
    assert _order(tmp_path) == ["a in", "a out", "x in", "x out", "b in", "b out"]


def test_shared_turns_run_together(tmp_path: Path) -> None:
    first = _start(tmp_path, False, "a")
    _wait_for_line(tmp_path, "a in")
    second = _start(tmp_path, False, "b")
    _wait_for_line(tmp_path, "b in")  # while a still holds its turn
    _release(tmp_path, "b")
    _wait_for_line(tmp_path, "b out")
    _release(tmp_path, "a")
    for process in (first, second):
        assert process.wait(30) == 0
    assert _order(tmp_path)[:3] == ["a in", "b in", "b out"]


def test_a_process_started_inside_a_turn_does_not_wait_for_one(tmp_path: Path) -> None:
    _release(tmp_path, "c")
    with cluster_turn(True, tmp_path):
        assert os.environ[HELD_ENV] == "exclusive"
        child = subprocess.Popen([sys.executable, "-c", HOLD, "s", str(tmp_path), str(tmp_path / "log"), "c"])
        assert child.wait(20) == 0  # it would block forever on the exclusive turn this process holds
    assert HELD_ENV not in os.environ
    assert _order(tmp_path) == ["c in", "c out"]


def test_a_turn_on_another_cluster_does_not_wait(tmp_path: Path) -> None:
    restart = _start(tmp_path, True, "x")
    _wait_for_line(tmp_path, "x in")
    other = _start(tmp_path, False, "k", cluster="drafarm-slice")
    _wait_for_line(tmp_path, "k in")  # while x holds the default cluster alone
    same = _start(tmp_path, False, "d", cluster="drafarm-slice")
    _wait_for_line(tmp_path, "d in")
    for name in ("k", "d", "x"):
        _release(tmp_path, name)
    for process in (restart, other, same):
        assert process.wait(30) == 0
    assert _order(tmp_path)[:3] == ["x in", "k in", "d in"]


OWN_CLUSTER_TEST = """
import pytest

@pytest.mark.e2e
@pytest.mark.own_cluster
def test_brings_up_its_own_cluster():
    pass
"""


def test_an_own_cluster_test_takes_no_turn_on_the_shared_cluster(tmp_path: Path) -> None:
    (tmp_path / "test_own.py").write_text(OWN_CLUSTER_TEST)
    env = {k: v for k, v in os.environ.items() if k not in (HELD_ENV, CLUSTER_NAME_ENV, "PYTEST_XDIST_WORKER")}
    env["TMPDIR"] = str(tmp_path)
    with cluster_turn(True, tmp_path):  # a restart on the shared cluster holds it alone
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "test_own.py"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
