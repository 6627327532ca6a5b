"""Bad arguments and files given to `drafarm` and the in-container client: the project's own message and
exit code, never a traceback, and nothing created by a command that refused its input."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli

DRAFARM = [sys.executable, "-m", "harness"]
CLIENT = [sys.executable, "-m", "fakedevices.client"]
REPO = Path(__file__).resolve().parents[2]
UNREACHABLE_KUBECONFIG = (
    "apiVersion: v1\nkind: Config\ncurrent-context: none\n"
    "clusters: [{name: none, cluster: {server: 'https://127.0.0.1:9'}}]\n"
    "users: [{name: none, user: {token: none}}]\n"
    "contexts: [{name: none, context: {cluster: none, user: none}}]\n"
)


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def _drafarm(*args: str) -> Outcome:
    """The real `drafarm` command, in this process (no traceback: any exception but SystemExit fails)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def _run(argv: list[str], cwd: Path = REPO, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, env=env)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: str(d), 'file: got "a directory"'),
        (lambda d: "", "give a path to a farm spec"),
        (lambda d: _write(d / "bad.yaml", b"apiVersion: \xff\n"), "the file must be UTF-8 text"),
        (lambda d: _write(d / "big.yaml", b"# " + b"x" * (2 << 20) + b"\n"), "a farm spec is at most 1024 KiB"),
        (lambda d: _write(d / "n.yaml", b"spec: {seed: " + b"9" * 10000 + b"}\n"), "integers have at most 40 digits"),
    ],
    ids=["directory", "empty", "not-utf8", "too-large", "long-integer"],
)
def test_farm_validate_bad_files(tmp_path: Path, make: object, expected: str) -> None:
    spec = make(tmp_path)  # type: ignore[operator]
    result = _drafarm("farm", "validate", spec)
    assert result.returncode == 2, result
    assert expected in result.stderr
    assert "nothing was changed" in result.stderr


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def test_example_name_shadowed_by_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "small").mkdir()
    monkeypatch.chdir(tmp_path)
    result = _drafarm("farm", "validate", "small")
    assert result.returncode == 0, result.stderr
    assert "valid farm 'small'" in result.stdout


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["fault", "--node", "../../etc", "status"], "is not a node name"),
        (["fault", "--node", "", "status"], "is not a node name"),
        (["fault", "--control-socket", "/nonexistent.sock", "delay-prepares", "nan"], "'nan' is not a number"),
        (["plugin", "run", "--node", "x", "--farm", "small", "--seed", "-1"], "-1 is not in the range"),
        (["plugin", "run", "--node", "x", "--farm", "small", "--seed", str(2**63)], "is not in the range"),
    ],
)
def test_cli_arguments_are_checked(argv: list[str], expected: str) -> None:
    result = _drafarm(*argv)
    assert result.returncode == 2, result
    assert expected in result.stderr


@pytest.mark.parametrize(
    ("kubeconfig", "expected", "state_exists"),
    [
        ("not: [valid", "cannot be used", False),
        ("apiVersion: v1\nkind: Config\n", "cannot be used", False),
        (UNREACHABLE_KUBECONFIG, "cannot reach", False),
        (UNREACHABLE_KUBECONFIG, "cannot reach", True),
    ],
    ids=["not-yaml", "no-clusters", "unreachable", "unreachable-existing-state-dir"],
)
def test_plugin_run_refuses_before_creating_state(
    short_tmp: Path, kubeconfig: str, expected: str, state_exists: bool
) -> None:
    config = short_tmp / "kubeconfig"
    config.write_text(kubeconfig)
    state = short_tmp / "state"
    if state_exists:
        state.mkdir()
    argv = [*DRAFARM, "plugin", "run", "--node", "drafarm-worker-0", "--farm", "small", "--kubeconfig", str(config)]
    argv += ["--state-dir", str(state), "--kubelet-root", str(short_tmp / "kubelet"), "--cdi-dir", str(short_tmp)]
    result = _run(argv)
    assert result.returncode == 1, result
    assert expected in result.stderr
    assert (list(state.iterdir()) == []) if state_exists else not state.exists()
    assert not (short_tmp / "kubelet").exists()


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """Unix socket paths must stay under 108 bytes: pytest's tmp_path can be too long."""
    path = Path(tempfile.mkdtemp(prefix="dfc-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("timeout", ["-1", "nan", "0", "inf"])
def test_client_timeout_is_checked(timeout: str) -> None:
    result = _run([*CLIENT, "raw", "--socket", "/nonexistent.sock", f"--timeout={timeout}", '{"op": "info"}'])
    assert result.returncode == 2 and "--timeout" in result.stderr, result


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("[" * 50_000 + "]" * 50_000, "nests too deeply"),
        ('{"op": ' + "9" * 5000 + "}", "is not JSON"),
        ("[1, 2]", "must be a JSON object"),
    ],
    ids=["deep", "long-integer", "not-an-object"],
)
def test_client_request_json_is_checked(request_text: str, expected: str) -> None:
    result = _run([*CLIENT, "raw", "--socket", "/nonexistent.sock", request_text])
    assert result.returncode == 2 and expected in result.stderr, result


@pytest.fixture
def bad_device(short_tmp: Path) -> Iterator[tuple[Path, list[bytes]]]:
    """A unix socket peer that answers one connection's first line with the reply given."""
    path = short_tmp / "bad.sock"
    replies: list[bytes] = []
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(4)

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.makefile("rb").readline()
            with contextlib.suppress(OSError):  # the client may stop reading a reply it refuses
                conn.sendall(replies.pop(0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path, replies
    listener.close()
    thread.join(5)


@pytest.mark.parametrize(
    "reply",
    [
        b"[" * 100_000 + b"]" * 100_000 + b"\n",
        b'{"ok":' + b"9" * 5000 + b"}\n",
        b'{"ok":"' + b"x" * (3 << 20) + b'"}\n',
    ],
    ids=["deep", "long-integer", "over-the-line-limit"],
)
def test_client_survives_a_misbehaving_device(bad_device: tuple[Path, list[bytes]], reply: bytes) -> None:
    path, replies = bad_device
    replies.append(reply)
    result = _run([*CLIENT, "raw", "--socket", str(path), '{"op": "info"}'])
    assert result.returncode == 2, result
    assert str(path) in result.stderr
