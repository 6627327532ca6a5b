"""The cluster's bridge, and cleanup of the iptables chains and CNI state the cluster created."""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
from pathlib import Path

from clusters.local.config import LocalConfig

TABLES = ("filter", "nat", "mangle")
OWNED_PREFIXES = ("KUBE-", "CNI-", "DRAFARM-")
CNI_RESULTS = Path("/var/lib/cni/results")
NETNS_DIR = Path("/run/netns")


class NetworkError(RuntimeError):
    pass


def _run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and proc.returncode != 0:
        raise NetworkError(f"`{' '.join(argv)}` failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def link_exists(name: str) -> bool:
    return Path(f"/sys/class/net/{name}").exists()


def bridge_mac(name: str) -> str:
    """A fixed, locally administered unicast MAC for the bridge, from its name."""
    digest = hashlib.sha256(name.encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))


def ensure_bridge(cfg: LocalConfig) -> None:
    """Create the bridge with the node IP before the kubelet starts (the kubelet binds to that IP).

    The bridge gets a MAC of its own: without one, Linux gives it the lowest MAC of its ports, so it
    changes when pods come and go, and pods that cached the old gateway MAC lose the host (the cameras,
    the apiserver) for the ~30 s until their ARP entry expires.
    """
    if not link_exists(cfg.bridge):
        _run(["ip", "link", "add", cfg.bridge, "type", "bridge"])
    mac = bridge_mac(cfg.bridge)
    if Path(f"/sys/class/net/{cfg.bridge}/address").read_text().strip() != mac:
        _run(["ip", "link", "set", "dev", cfg.bridge, "address", mac])
    addr = f"{cfg.node_ip}/{cfg.node_cidr.prefixlen}"
    shown = _run(["ip", "-o", "addr", "show", "dev", cfg.bridge]).stdout
    if f" {addr} " not in shown:
        _run(["ip", "addr", "add", addr, "dev", cfg.bridge])
    _run(["ip", "link", "set", cfg.bridge, "up"])


def delete_bridge(cfg: LocalConfig) -> None:
    if link_exists(cfg.bridge):
        _run(["ip", "link", "del", cfg.bridge], check=False)


def service_chain(cfg: LocalConfig) -> str:
    return f"DRAFARM-{cfg.name}"[:28].upper()


def ensure_kubernetes_service(cfg: LocalConfig) -> None:
    """Send the `kubernetes` Service address to the apiserver, so pods reach it by in-cluster config.

    A local cluster runs no kube-proxy; this one DNAT rule (in a chain of our own, removed by `down`)
    is what kube-proxy would do for the apiserver's Service.
    """
    chain = service_chain(cfg)
    ipt = ["iptables", "-w", "-t", "nat"]
    if _run([*ipt, "-S", chain], check=False).returncode != 0:
        _run([*ipt, "-N", chain])
    _run([*ipt, "-F", chain])
    _run(
        [
            *ipt,
            "-A",
            chain,
            "-d",
            f"{cfg.kubernetes_service_ip}/32",
            "-p",
            "tcp",
            "--dport",
            "443",
            "-j",
            "DNAT",
            "--to-destination",
            f"{cfg.node_ip}:{cfg.ports.apiserver}",
        ]
    )
    for hook in ("PREROUTING", "OUTPUT"):
        if _run([*ipt, "-C", hook, "-j", chain], check=False).returncode != 0:
            _run([*ipt, "-I", hook, "-j", chain])


def _tools() -> list[str]:
    return [t for t in ("iptables", "ip6tables") if shutil.which(t)]


def chains(tool: str, table: str) -> set[str]:
    proc = _run([f"{tool}-save", "-t", table], check=False)
    return {line[1:].split()[0] for line in proc.stdout.splitlines() if line.startswith(":")}


def snapshot_chains() -> dict[str, list[str]]:
    """`{"iptables/nat": [chains...], ...}` before the cluster starts."""
    return {f"{tool}/{table}": sorted(chains(tool, table)) for tool in _tools() for table in TABLES}


def remove_new_chains(before: dict[str, list[str]]) -> list[str]:
    """Delete KUBE-*/CNI-* chains that did not exist in `before`, and every rule jumping to them."""
    removed: list[str] = []
    for tool in _tools():
        for table in TABLES:
            known = set(before.get(f"{tool}/{table}", []))
            save = _run([f"{tool}-save", "-t", table], check=False).stdout
            current = {line[1:].split()[0] for line in save.splitlines() if line.startswith(":")}
            new = {c for c in current - known if c.startswith(OWNED_PREFIXES)}
            if not new:
                continue
            for line in save.splitlines():
                if not line.startswith("-A "):
                    continue
                args = shlex.split(line)
                chain = args[1]
                target = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-j", "-g")), "")
                if chain not in new and target in new:
                    _run([tool, "-w", "-t", table, "-D", *args[1:]], check=False)
            for chain in sorted(new):
                _run([tool, "-w", "-t", table, "-F", chain], check=False)
            for chain in sorted(new):
                _run([tool, "-w", "-t", table, "-X", chain], check=False)
                removed.append(f"{tool}/{table}/{chain}")
    return removed


def leftover_chains(before: dict[str, list[str]]) -> list[str]:
    left = []
    for tool in _tools():
        for table in TABLES:
            known = set(before.get(f"{tool}/{table}", []))
            left += [f"{tool}/{table}/{c}" for c in chains(tool, table) - known if c.startswith(OWNED_PREFIXES)]
    return left


def snapshot_netns() -> list[str]:
    return sorted(p.name for p in NETNS_DIR.iterdir()) if NETNS_DIR.is_dir() else []


def remove_cni_state(cfg: LocalConfig, netns_before: list[str]) -> None:
    """CNI result cache entries of this cluster's network, and network namespaces it left behind."""
    prefix = f"drafarm-{cfg.name}-"
    if CNI_RESULTS.is_dir():
        for entry in CNI_RESULTS.iterdir():
            if entry.name.startswith(prefix):
                entry.unlink(missing_ok=True)
    if NETNS_DIR.is_dir():
        in_use = _netns_in_use()
        for entry in NETNS_DIR.iterdir():
            if not entry.name.startswith("cni-") or entry.name in netns_before:
                continue
            try:
                inode = entry.stat().st_ino
            except OSError:
                continue
            if inode in in_use:
                continue  # a live pod (of any cluster) still runs in it: not ours to remove
            _run(["umount", str(entry)], check=False)
            entry.unlink(missing_ok=True)


def _netns_in_use() -> set[int]:
    inodes = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                inodes.add((proc / "ns" / "net").stat().st_ino)
            except OSError:
                continue
    return inodes
