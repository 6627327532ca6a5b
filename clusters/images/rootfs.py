"""Root filesystems for the offline images, assembled from files already on the host.

* pause: Debian's static `catatonit`, run as `catatonit -P` (pause mode).
* workload: Debian's static busybox (a shell and coreutils applets), the host's Python interpreter with
  its standard library and the shared libraries it links (found with `ldd`), and the farm's in-container
  client package (`fakedevices/client`, stdlib-only) importable as `python3 -m fakedevices.client`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

CATATONIT_CANDIDATES = ("/usr/bin/catatonit", "/usr/libexec/catatonit/catatonit")
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
CLIENT_DIR = Path(__file__).resolve().parents[2] / "fakedevices" / "client"
APP_DIR = "opt/drafarm"
STDLIB_SKIP = {
    "test",
    "tests",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "site-packages",
    "dist-packages",
    "__pycache__",
    "config-3.11-x86_64-linux-gnu",
}


class ImageInputError(RuntimeError):
    pass


def find_host_file(candidates: tuple[str, ...], package: str) -> Path:
    for candidate in candidates:
        if Path(candidate).is_file():
            return Path(candidate)
    raise ImageInputError(
        f"none of {list(candidates)} exists; install the Debian package `{package}` (`make setup` does, as root)"
    )


def _base_layout(root: Path) -> None:
    """Merged-/usr layout like Debian bookworm, plus the files every container expects."""
    for d in ("usr/bin", "usr/lib", "usr/lib64", "etc", "tmp", "proc", "sys", "dev", "root", "var/tmp"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for link, target in (("bin", "usr/bin"), ("sbin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")):
        if not (root / link).is_symlink():
            (root / link).symlink_to(target)
    (root / "tmp").chmod(0o1777)
    (root / "var/tmp").chmod(0o1777)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    (root / "etc/group").write_text("root:x:0:\nnogroup:x:65534:\n")


def _place(root: Path, host_path: str) -> None:
    """Copy host file `host_path` to the same path in `root`, following directory symlinks in `root`."""
    real_dir = os.path.realpath(os.path.dirname(host_path))
    dest = root / real_dir.lstrip("/") / os.path.basename(host_path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        shutil.copy2(os.path.realpath(host_path), dest)


_LDD_PATH = re.compile(r"(/\S+)")


def shared_libraries(binary: Path) -> list[str]:
    proc = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        return []  # static binaries: "not a dynamic executable"
    libs = []
    for line in proc.stdout.splitlines():
        match = _LDD_PATH.search(line.split("=>")[-1])
        if match:
            libs.append(match.group(1))
    return libs


def pause_rootfs(root: Path) -> None:
    _base_layout(root)
    catatonit = find_host_file(CATATONIT_CANDIDATES, "catatonit")
    shutil.copy2(catatonit, root / "usr/bin/catatonit")


def _install_busybox(root: Path) -> None:
    busybox = find_host_file(BUSYBOX_CANDIDATES, "busybox-static")
    shutil.copy2(busybox, root / "usr/bin/busybox")
    listing = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, timeout=30, check=True)
    for applet in sorted(set(listing.stdout.split())):
        link = root / "usr/bin" / applet
        if applet != "busybox" and not link.exists() and not link.is_symlink():
            link.symlink_to("busybox")


def _install_python(root: Path) -> None:
    executable = Path(os.path.realpath(sys.executable))
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    if not executable.is_file() or not (stdlib / "os.py").is_file():
        raise ImageInputError(f"cannot find the host Python ({executable}) or its stdlib ({stdlib})")
    name = f"python{sys.version_info.major}.{sys.version_info.minor}"
    shutil.copy2(executable, root / "usr/bin" / name)
    for alias in ("python3", "python"):
        link = root / "usr/bin" / alias
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(name)
    dest_stdlib = root / "usr/lib" / name

    def ignore(_dir: str, names: list[str]) -> set[str]:
        return {n for n in names if n in STDLIB_SKIP or n.startswith("config-")}

    shutil.copytree(stdlib, dest_stdlib, ignore=ignore, symlinks=True, dirs_exist_ok=True)
    binaries = [executable, *sorted((dest_stdlib / "lib-dynload").glob("*.so"))]
    for lib in sorted({lib for b in binaries for lib in shared_libraries(b)}):
        _place(root, lib)


def _install_client(root: Path, client_dir: Path) -> None:
    package = root / APP_DIR / "fakedevices"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text('"""The in-container part of drafarm: only the client package."""\n')
    if client_dir.is_dir():

        def ignore(_dir: str, names: list[str]) -> set[str]:
            return {n for n in names if n == "__pycache__" or n.endswith(".pyc")}

        shutil.copytree(client_dir, package / "client", ignore=ignore, dirs_exist_ok=True)


def workload_rootfs(root: Path, client_dir: Path = CLIENT_DIR) -> None:
    _base_layout(root)
    _install_busybox(root)
    _install_python(root)
    _install_client(root, client_dir)
