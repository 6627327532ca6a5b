"""Builds the pinned toolchain into a per-version cache, only what is missing, and checks each binary runs.

Cache layout (root: `clusters.paths.toolchain_root()`):

    <module>-<version>/bin/<binary>      e.g. kubernetes-v1.36.3/bin/kubelet, etcd-v3.6.16/bin/etcd
    logs/<module>-<version>.log          full `go` output of the last build of that module
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from clusters import paths
from clusters.toolchain import gomod
from clusters.toolchain.components import Binary, Module
from clusters.toolchain.goenv import build_env, find_go

SOURCE_MODULES = Path(__file__).resolve().parent / "modules"
BUILD_TIMEOUT_S = 3 * 3600
VERIFY_TIMEOUT_S = 60


class BuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class BinaryStatus:
    module: str
    binary: str
    path: Path
    built: bool


@dataclass(frozen=True)
class BuildResult:
    module: str
    binary: str
    outcome: str  # "cached" | "built" | "failed"
    seconds: float
    detail: str = ""


Reporter = Callable[[str, str, str], None]
"""Called with (module key, binary name, phase) where phase is "start", "building" (a cache miss: the
compile begins), "cached", "built" or "failed"."""


def bin_dir(module: Module) -> Path:
    return paths.toolchain_root() / module.key / "bin"


def binary_path(module: Module, binary: Binary) -> Path:
    return bin_dir(module) / binary.name


def log_path(module: Module) -> Path:
    return paths.toolchain_root() / "logs" / f"{module.key}.log"


def status(modules: list[Module]) -> list[BinaryStatus]:
    out = []
    for module in modules:
        for binary in module.binaries:
            path = binary_path(module, binary)
            out.append(BinaryStatus(module.key, binary.name, path, os.access(path, os.X_OK)))
    return out


def verify(path: Path, binary: Binary) -> str:
    """Run the binary's version command; return its first output line or raise BuildError."""
    env = dict(os.environ)
    env.update(dict(binary.env))
    try:
        proc = subprocess.run(
            [str(path), *binary.version_args],
            input=binary.stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=VERIFY_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"{path} does not run: {exc}") from exc
    text = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or binary.expect not in text:
        raise BuildError(
            f"{path} {' '.join(binary.version_args)} exited {proc.returncode} without {binary.expect!r} "
            f"in its output: {text[:300]!r}; delete it and run `drafarm toolchain build` again"
        )
    return text.splitlines()[0] if text else ""


def module_dir(module: Module) -> Path:
    """The wrapper module's directory: the source tree's copy when writable, else one in the cache."""
    source = SOURCE_MODULES / module.key
    if (source / "go.mod").is_file() and os.access(source, os.W_OK):
        return source
    if not source.exists() and os.access(SOURCE_MODULES.parent, os.W_OK):
        return source
    work = paths.modules_root() / module.key
    if not (work / "go.mod").is_file() and (source / "go.mod").is_file():
        work.mkdir(parents=True, exist_ok=True)
        for name in ("go.mod", "go.sum", *module.sources):
            if (source / name).is_file():
                shutil.copy2(source / name, work / name)
    return work


def _run_go(args: list[str], cwd: Path, log: Path, cgo: bool = False) -> str:
    go = find_go()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as fh:
        fh.write(f"\n$ (cd {cwd}) go {' '.join(args)}\n")
        fh.flush()
        proc = subprocess.run(
            [str(go), *args],
            cwd=cwd,
            env=build_env(cgo),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=BUILD_TIMEOUT_S,
        )
        fh.write(proc.stdout)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-15:])
        raise BuildError(f"`go {' '.join(args[:2])} ...` failed in {cwd} (full log: {log}):\n{tail}")
    return proc.stdout


def _download_gomod(path_at_version: str, log: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="drafarm-gomod-") as tmp:
        out = _run_go(["mod", "download", "-json", path_at_version], Path(tmp), log)
    info = json.loads(out[out.index("{") :])
    if info.get("Error"):
        raise BuildError(f"cannot download {path_at_version} from the Go module proxy: {info['Error']}")
    return Path(info["GoMod"])


def _max_go(versions: list[str]) -> str:
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split(".") if p.isdigit())

    best = max(versions, key=key)
    return best if best.count(".") >= 2 else best + ".0"


def prepare_module(module: Module) -> Path:
    """Write the wrapper module (go.mod, sources) if it is not there yet; return its directory."""
    directory = module_dir(module)
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in module.sources.items():
        target = directory / name
        if not target.is_file() or target.read_text() != text:
            target.write_text(text)
    if (directory / "go.mod").is_file():
        return directory
    log = log_path(module)
    name = f"drafarm.local/toolchain/{module.name}"
    if module.name == "kubernetes":
        upstream = gomod.parse(_download_gomod(f"k8s.io/kubernetes@{module.version}", log).read_text())
        text = gomod.kubernetes_wrapper(upstream, module.version, name)
    else:
        go_lines = []
        for path, version in module.requires.items():
            parsed = gomod.parse(_download_gomod(f"{path}@{version}", log).read_text())
            if parsed.go:
                go_lines.append(parsed.go)
        text = gomod.simple_wrapper(name, _max_go(go_lines or ["1.24.0"]), module.requires)
    (directory / "go.mod").write_text(text)
    return directory


def build_binary(module: Module, binary: Binary, directory: Path) -> None:
    target = binary_path(module, binary)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{binary.name}.tmp")
    args = ["build", "-mod=mod", "-trimpath", "-o", str(tmp)]
    if module.tags:
        args += ["-tags", ",".join(module.tags)]
    args += ["-ldflags", " ".join(("-s", "-w", *module.ldflags))]
    args.append(binary.package)
    _run_go(args, directory, log_path(module), module.cgo)
    verify(tmp, binary)
    tmp.replace(target)


def build(modules: list[Module], report: Reporter | None = None, keep_going: bool = True) -> list[BuildResult]:
    """Build every missing binary of `modules`; cached ones are verified, not rebuilt.

    Each module is built under its own file lock, so two processes never build the same module at
    once, and checking a cached module never waits for another module's build.
    """
    results: list[BuildResult] = []
    notify = report or (lambda _m, _b, _p: None)
    for module in modules:
        module_results = _build_module(module, notify)
        results += module_results
        if not keep_going and any(r.outcome == "failed" for r in module_results):
            break
    return results


def _cached(module: Module, binary: Binary) -> bool:
    path = binary_path(module, binary)
    if not os.access(path, os.X_OK):
        return False
    try:
        verify(path, binary)
    except BuildError:
        path.unlink(missing_ok=True)
        return False
    return True


def _build_module(module: Module, notify: Reporter) -> list[BuildResult]:
    results: list[BuildResult] = []
    todo: list[Binary] = []
    for binary in module.binaries:
        notify(module.key, binary.name, "start")
        if _cached(module, binary):
            results.append(BuildResult(module.key, binary.name, "cached", 0.0))
            notify(module.key, binary.name, "cached")
        else:
            todo.append(binary)
    if not todo:
        return results
    lock_dir = paths.toolchain_root() / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_dir / f"{module.key}.lock"), timeout=BUILD_TIMEOUT_S):
        directory: Path | None = None
        for binary in todo:
            start = time.monotonic()
            try:
                if _cached(module, binary):  # another process built it while we waited
                    results.append(BuildResult(module.key, binary.name, "cached", 0.0))
                    notify(module.key, binary.name, "cached")
                    continue
                notify(module.key, binary.name, "building")
                if directory is None:
                    directory = prepare_module(module)
                build_binary(module, binary, directory)
            except (BuildError, OSError, subprocess.TimeoutExpired) as exc:
                elapsed = time.monotonic() - start
                results.append(BuildResult(module.key, binary.name, "failed", elapsed, str(exc)))
                notify(module.key, binary.name, "failed")
                continue
            results.append(BuildResult(module.key, binary.name, "built", time.monotonic() - start))
            notify(module.key, binary.name, "built")
    return results


def missing(modules: list[Module]) -> list[BinaryStatus]:
    return [s for s in status(modules) if not s.built]
