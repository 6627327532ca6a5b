"""What the harness tells the report about the run: `set_run_metadata` and `set_farm_snapshot`.

Both work in any process. On the xdist controller (or without xdist) the values go straight into
`config.stash`. On a worker they also go into `config.workeroutput`, which xdist sends to the controller
when the worker finishes; the controller merges them in `pytest_testnodedown` (see hooks.py). So a
session fixture on a worker may record the cluster's Kubernetes version, and a worker's
`pytest_sessionfinish` (or a fixture's teardown) may record the farm as it was at the end.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

METADATA_KEY = pytest.StashKey[dict[str, Any]]()
FARM_KEY = pytest.StashKey[dict[str, Any]]()
FARM_TIME_KEY = pytest.StashKey[str]()

WORKER_METADATA = "drafarm_report_metadata"
WORKER_FARM = "drafarm_report_farm"
WORKER_FARM_TIME = "drafarm_report_farm_time"

STANDARD_FIELDS = ("kubernetes_version", "driver", "profile", "farm", "cluster", "title")


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _plain(value: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON round-trip: what xdist can send and results.json can hold (non-JSON values become strings)."""
    plain: dict[str, Any] = json.loads(json.dumps(dict(value), default=str))
    return plain


def _worker_output(config: pytest.Config) -> dict[str, Any] | None:
    output = getattr(config, "workeroutput", None)
    return output if isinstance(output, dict) else None


def set_run_metadata(config: pytest.Config, **fields: object) -> None:
    """Record facts about the run for the report header and results.json (later calls win per field).

    Known fields: kubernetes_version, driver, profile, farm, cluster, title; any other field is shown too.
    A field set to None is removed.
    """
    plain = _plain(fields)
    current = config.stash.setdefault(METADATA_KEY, {})
    for key, value in plain.items():
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    output = _worker_output(config)
    if output is not None:
        output.setdefault(WORKER_METADATA, {}).update(plain)


def set_farm_snapshot(config: pytest.Config, snapshot: Mapping[str, Any]) -> None:
    """Record the farm picture (see harness.report.snapshot for the format); the newest one is drawn."""
    plain = _plain(snapshot)
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    plain.setdefault("taken", now)
    config.stash[FARM_KEY] = plain
    config.stash[FARM_TIME_KEY] = now
    output = _worker_output(config)
    if output is not None:
        output[WORKER_FARM] = plain
        output[WORKER_FARM_TIME] = now


def merge_worker_output(config: pytest.Config, output: Mapping[str, Any]) -> None:
    """On the controller: take what a finished worker recorded."""
    fields = output.get(WORKER_METADATA)
    if isinstance(fields, Mapping):
        current = config.stash.setdefault(METADATA_KEY, {})
        for key, value in fields.items():
            if value is None:
                current.pop(str(key), None)
            else:
                current[str(key)] = value
    farm = output.get(WORKER_FARM)
    when = str(output.get(WORKER_FARM_TIME) or "")
    if isinstance(farm, Mapping) and when >= config.stash.get(FARM_TIME_KEY, ""):
        config.stash[FARM_KEY] = dict(farm)
        config.stash[FARM_TIME_KEY] = when


def run_metadata(config: pytest.Config) -> dict[str, Any]:
    fields: dict[str, Any] = config.stash.get(METADATA_KEY, {})
    return dict(fields)


def farm_snapshot(config: pytest.Config) -> dict[str, Any] | None:
    return config.stash.get(FARM_KEY, None)
