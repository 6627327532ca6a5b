"""drafarm's own dockerd: the capabilities it must drop, the runc wrapper's spec edit, its arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from clusters.host import dockerd, runc_wrapper

ALL_BUT_SYS_RESOURCE = 0x1FFFEFFFFFF


def test_missing_capabilities_names_what_the_bounding_set_lacks() -> None:
    assert runc_wrapper.missing_capabilities(ALL_BUT_SYS_RESOURCE, last_cap=40) == ("CAP_SYS_RESOURCE",)
    assert runc_wrapper.missing_capabilities(0x1FFFFFFFFFF, last_cap=40) == ()
    # a kernel that knows fewer capabilities: the unknown ones are not "missing"
    assert runc_wrapper.missing_capabilities(0xFFFFFFFFFF, last_cap=39) == ()


def _spec(bundle: Path, caps: list[str]) -> Path:
    bundle.mkdir()
    path = bundle / "config.json"
    lists = {k: list(caps) for k in ("bounding", "effective", "permitted", "inheritable")}
    path.write_text(json.dumps({"ociVersion": "1.0.2", "process": {"capabilities": lists}}))
    return path


def _run_wrapper(tmp_path: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "wrapper.py"
    # /bin/echo stands where runc would: the wrapper execs it with the arguments unchanged.
    script.write_text(runc_wrapper.render(Path("/bin/echo"), ("CAP_SYS_RESOURCE",)))
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=30)


def test_wrapper_drops_the_capability_from_a_create_spec_and_passes_arguments_on(tmp_path: Path) -> None:
    spec = _spec(tmp_path / "bundle", ["CAP_CHOWN", "CAP_SYS_RESOURCE", "CAP_SYS_ADMIN"])
    args = ["--root", "/run/x", "--log", "/tmp/l.json", "create", "--bundle", str(spec.parent), "ctr-id"]
    proc = _run_wrapper(tmp_path, args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == args
    caps = json.loads(spec.read_text())["process"]["capabilities"]
    assert all(v == ["CAP_CHOWN", "CAP_SYS_ADMIN"] for v in caps.values()), caps


def test_wrapper_leaves_specs_alone_for_other_subcommands(tmp_path: Path) -> None:
    spec = _spec(tmp_path / "bundle", ["CAP_SYS_RESOURCE"])
    before = spec.read_text()
    # "create" as a value of a global flag is not the subcommand
    proc = _run_wrapper(tmp_path, ["--log", "create", "delete", "--bundle", str(spec.parent), "id"])
    assert proc.returncode == 0, proc.stderr
    assert spec.read_text() == before


def test_dockerd_adds_no_rules_and_uses_its_own_ranges(tmp_path: Path) -> None:
    lay = dockerd.DaemonLayout(run_dir=tmp_path / "run", state_dir=tmp_path / "state")
    args = dockerd.argv(lay, "/usr/sbin/dockerd", None)
    assert {"--iptables=false", "--ip-forward=false", "--ip-masq=false"} <= set(args)
    assert f"--bridge={dockerd.BRIDGE}" in args
    assert not any(a.startswith("--default-runtime") for a in args)
    with_wrapper = dockerd.argv(lay, "/usr/sbin/dockerd", lay.wrapper)
    assert f"--default-runtime={dockerd.WRAPPER_RUNTIME}" in with_wrapper
    assert dockerd.BRIDGE_ADDRESS.startswith("198.18.") and dockerd.ADDRESS_POOL.startswith("198.18.")


def test_wrapper_drops_the_capability_from_an_exec_process_file(tmp_path: Path) -> None:
    process = tmp_path / "process.json"
    process.write_text(json.dumps({"args": ["cat"], "capabilities": {"bounding": ["CAP_SYS_RESOURCE", "CAP_KILL"]}}))
    proc = _run_wrapper(tmp_path, ["--root", "/r", "exec", "--process", str(process), "--detach", "id"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(process.read_text())["capabilities"] == {"bounding": ["CAP_KILL"]}
