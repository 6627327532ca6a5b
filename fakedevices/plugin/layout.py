"""Where a node's plugin keeps everything: its sockets with the kubelet, its state directory, its CDI specs.

Every other module (the CLI, the cluster providers, the driver DaemonSet, the tests) asks this one for a
path or a file name instead of spelling it out. The kubelet's part follows its plugin watcher (see
shared/reference/dra-facts.md, section 1); the CDI part the CDI spec (section 5).

Several instances of one node's plugin may run at once (a rolling upgrade): each has its own kubelet
sockets, named after its instance ID, and they share the state dir and the CDI specs. An instance
without an ID has the plain socket names.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

STATE_ROOT = Path("/run/drafarm")
"""Runtime state, one directory per node; short on purpose: emulator session sockets live below it and a
unix socket path may have at most 107 bytes."""
KUBELET_ROOT = Path("/var/lib/kubelet")
STATIC_CDI_DIR = Path("/etc/cdi")
DYNAMIC_CDI_DIR = Path("/var/run/cdi")
CDI_SPEC_DIRS = (STATIC_CDI_DIR, DYNAMIC_CDI_DIR)
"""Where container runtimes look for CDI specs (the dynamic one wins); the plugin writes to the dynamic one."""
CDI_CLASS = "claim"
ANY_DRIVERS_CDI_SPECS = f"*-{CDI_CLASS}_*.json"
"""A glob for the CDI spec files of every driver that uses this layout."""
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9_.-]")
_INSTANCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
INSTANCE_LOCKS = "plugin*.lock"
"""A glob for the lock files of every instance serving a state dir, the one without an ID among them."""
MAX_SOCKET_PATH_BYTES = 107


def instance_id_problem(instance: str) -> str | None:
    """What is wrong with an instance ID (None: nothing; the empty ID is the instance without one)."""
    if instance == "" or _INSTANCE_ID.fullmatch(instance):
        return None
    return (
        f"instance ID {instance[:80]!r} must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter "
        "or digit (a pod UID is one)"
    )


def node_state_dir(node: str, root: Path = STATE_ROOT) -> Path:
    """The plugin's state directory for `node` when none is given (`drafarm plugin run --state-dir`)."""
    return root / node


def control_socket_in(state_dir: Path) -> Path:
    """The fault-control socket of the plugin serving from `state_dir`."""
    return state_dir / "control.sock"


def lock_file_in(state_dir: Path, instance: str = "") -> Path:
    """Held by an instance for as long as it serves from `state_dir`."""
    return state_dir / (f"plugin-{instance}.lock" if instance else "plugin.lock")


def instance_of_lock(lock_file: Path) -> str:
    """The instance ID whose lock file (`lock_file_in`) this is; "" for the instance without one."""
    return lock_file.name.removeprefix("plugin").removeprefix("-").removesuffix(".lock")


def registration_dir(kubelet_root: Path) -> Path:
    """The directory the kubelet's plugin watcher watches for registration sockets."""
    return kubelet_root / "plugins_registry"


def plugins_dir(kubelet_root: Path) -> Path:
    """The kubelet's directory for plugins' own sockets and data."""
    return kubelet_root / "plugins"


def registration_socket(kubelet_root: Path, driver: str, instance: str = "") -> Path:
    return registration_dir(kubelet_root) / (f"{driver}-{instance}-reg.sock" if instance else f"{driver}-reg.sock")


@functools.lru_cache(maxsize=64)
def cdi_spec_prefix(driver: str) -> str:
    """What every CDI spec file name of `driver` starts with; the claim UID and `.json` follow."""
    return _UNSAFE_IN_FILE_NAME.sub("_", f"{driver}-{CDI_CLASS}") + "_"


def cdi_spec_glob(driver: str) -> str:
    """Matches the CDI spec files of `driver`, and no other driver's."""
    return f"{cdi_spec_prefix(driver)}*.json"


def cdi_specs_of(driver: str, cdi_dir: Path = DYNAMIC_CDI_DIR) -> list[Path]:
    return sorted(cdi_dir.glob(cdi_spec_glob(driver)))


@dataclass(frozen=True)
class PluginLayout:
    driver: str
    state_dir: Path
    kubelet_root: Path = KUBELET_ROOT
    cdi_dir: Path = DYNAMIC_CDI_DIR
    instance: str = ""
    """This instance's ID when several may serve the node at once (`plugin run --instance`); "" for none."""

    def __post_init__(self) -> None:
        if (problem := instance_id_problem(self.instance)) is not None:
            raise ValueError(problem)

    @classmethod
    def for_node(
        cls, driver: str, node: str, *, kubelet_root: Path = KUBELET_ROOT, cdi_dir: Path = DYNAMIC_CDI_DIR
    ) -> PluginLayout:
        return cls(driver, node_state_dir(node), kubelet_root, cdi_dir)

    # ---- shared with the kubelet -------------------------------------------------------------------
    @property
    def registration_socket(self) -> Path:
        return registration_socket(self.kubelet_root, self.driver, self.instance)

    @property
    def service_socket(self) -> Path:
        """The DRA and health services; its absolute path is what registration advertises."""
        return (
            plugins_dir(self.kubelet_root)
            / self.driver
            / (f"dra-{self.instance}.sock" if self.instance else "dra.sock")
        )

    def socket_path_problems(self) -> list[str]:
        """The kubelet sockets whose paths are too long for a unix socket."""
        return [
            f"{what} {path} is {len(os.fsencode(path))} bytes, over the {MAX_SOCKET_PATH_BYTES} a unix socket path "
            "may have: use a shorter --kubelet-root or --instance"
            for what, path in (
                ("registration socket", self.registration_socket),
                ("service socket", self.service_socket),
            )
            if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES
        ]

    # ---- the plugin's own state --------------------------------------------------------------------
    @property
    def control_socket(self) -> Path:
        return control_socket_in(self.state_dir)

    @property
    def checkpoint_dir(self) -> Path:
        return self.state_dir / "claims"

    @property
    def emulators_dir(self) -> Path:
        return self.state_dir / "emulators"

    @property
    def lock_file(self) -> Path:
        """Held by this instance for its whole life (another with the same ID is refused)."""
        return lock_file_in(self.state_dir, self.instance)

    @property
    def state_lock(self) -> Path:
        """Orders the instances' changes of the shared state (see `state_lock.py`)."""
        return self.state_dir / "state.lock"

    @property
    def claim_locks_dir(self) -> Path:
        return self.state_dir / "locks"

    # ---- CDI specs -----------------------------------------------------------------------------------
    @property
    def cdi_kind(self) -> str:
        """The `kind` of every CDI spec the plugin writes, and so the prefix of its CDI device IDs."""
        return f"{self.driver}/{CDI_CLASS}"

    def cdi_spec(self, claim_uid: str) -> Path:
        """The one CDI spec file of a prepared claim."""
        return Path(self.cdi_spec_file(claim_uid))

    def cdi_spec_file(self, claim_uid: str) -> str:
        """`cdi_spec` as a string, for every prepare and unprepare: no path parsing."""
        return f"{self._cdi_spec_start}{claim_uid}.json"

    @functools.cached_property
    def _cdi_spec_start(self) -> str:
        return f"{self.cdi_dir}{os.sep}{cdi_spec_prefix(self.driver)}"

    def cdi_specs(self) -> list[Path]:
        return cdi_specs_of(self.driver, self.cdi_dir)

    def claim_of_cdi_spec(self, path: Path) -> str:
        """The claim UID in the name of one of `cdi_specs()`."""
        return path.stem[len(cdi_spec_prefix(self.driver)) :]
