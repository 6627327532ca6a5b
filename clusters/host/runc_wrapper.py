"""A runc wrapper for dockerd on hosts whose capability bounding set lacks capabilities docker grants.

`docker run --privileged` asks runc for every capability the kernel knows; where the bounding set lacks
one (these VMs lack CAP_SYS_RESOURCE), runc fails with "unable to apply caps". The wrapper, registered
as dockerd's default runtime, removes the missing capabilities from the OCI spec's capability lists
(and from `runc exec`'s process file, for `docker exec --privileged`) before exec'ing runc. It is
installed only when the bounding set really lacks one.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from clusters.host.detect import capability_bounding_set

# Linux capability numbers (include/uapi/linux/capability.h).
CAPABILITIES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)

LAST_CAP_FILE = Path("/proc/sys/kernel/cap_last_cap")
RUNC_CANDIDATES = ("/usr/sbin/runc", "/usr/bin/runc")

_TEMPLATE = '''\
"""drafarm runc wrapper: drops capabilities this host's bounding set lacks, then runs runc."""
import json, os, sys

RUNC = {runc!r}
DROP = {drop!r}
VALUE_FLAGS = {{"--root", "--log", "--log-format", "--criu", "--rootless"}}


def parse(args):
    """The subcommand, and the file holding its process' capabilities (a bundle's config.json for
    create/run, the --process file for exec)."""
    command, bundle, process, i = None, None, None, 0
    while i < len(args):
        arg = args[i]
        if command is None and arg in VALUE_FLAGS:
            i += 2
            continue
        if command is None and not arg.startswith("-"):
            command = arg
        elif command is not None and arg in ("--bundle", "-b", "--process", "-p") and i + 1 < len(args):
            if arg in ("--bundle", "-b"):
                bundle = args[i + 1]
            else:
                process = args[i + 1]
            i += 1
        elif command is not None and arg.startswith(("--bundle=", "--process=")):
            key, value = arg.split("=", 1)
            if key == "--bundle":
                bundle = value
            else:
                process = value
        i += 1
    if command in ("create", "run"):
        return command, os.path.join(bundle or os.getcwd(), "config.json"), "process"
    if command == "exec" and process:
        return command, process, None
    return command, None, None


def drop(path, key):
    with open(path) as fh:
        spec = json.load(fh)
    holder = (spec.get(key) or {{}}) if key else spec
    caps = holder.get("capabilities") or {{}}
    for name, values in caps.items():
        if isinstance(values, list):
            caps[name] = [v for v in values if v not in DROP]
    tmp = path + ".drafarm"
    with open(tmp, "w") as fh:
        json.dump(spec, fh)
    os.replace(tmp, path)


def main():
    args = sys.argv[1:]
    _command, path, key = parse(args)
    if path:
        drop(path, key)
    os.execv(RUNC, [RUNC, *args])


main()
'''


class WrapperError(RuntimeError):
    pass


def missing_capabilities(bounding: int | None = None, last_cap: int | None = None) -> tuple[str, ...]:
    """Capabilities the kernel knows (up to cap_last_cap) that this process's bounding set lacks."""
    if bounding is None:
        bounding = capability_bounding_set()
    if last_cap is None:
        try:
            last_cap = int(LAST_CAP_FILE.read_text().strip())
        except (OSError, ValueError):
            last_cap = len(CAPABILITIES) - 1
    known = CAPABILITIES[: min(last_cap, len(CAPABILITIES) - 1) + 1]
    return tuple(name for number, name in enumerate(known) if not bounding >> number & 1)


def find_runc() -> Path:
    for candidate in RUNC_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    found = shutil.which("runc")
    if found:
        return Path(found)
    raise WrapperError("runc is missing; install the Debian package `runc` (`make setup` does, as root)")


def render(runc: Path, drop: tuple[str, ...]) -> str:
    interpreter = "/usr/bin/python3" if Path("/usr/bin/python3").is_file() else sys.executable
    return f"#!{interpreter} -I\n" + _TEMPLATE.format(runc=str(runc), drop=sorted(drop))


def install(path: Path, drop: tuple[str, ...]) -> Path:
    """Write the wrapper to `path` (atomically, executable) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render(find_runc(), drop))
    os.chmod(tmp, 0o755)
    tmp.replace(path)
    return path
