"""What the bring-up steps work with: the cluster's settings and directory, its programs, what the host
allows, the state file, and how long each wait may take."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from clusters.host.detect import HostFacts
from clusters.local.commands import Binaries
from clusters.local.config import LocalConfig
from clusters.local.layout import Layout
from clusters.state_file import StateFile


@dataclass(frozen=True)
class Timeouts:
    etcd: float = 30.0
    containerd: float = 30.0
    apiserver: float = 90.0
    controllers: float = 60.0
    kubelet: float = 60.0
    node_ready: float = 90.0
    stop: float = 10.0


@dataclass(frozen=True)
class Boot:
    cfg: LocalConfig
    layout: Layout
    timeouts: Timeouts
    bins: Binaries
    facts: HostFacts
    gates: dict[str, bool]
    """The DRA feature gates every component gets."""
    state: StateFile
    started: float = field(default_factory=time.time)
