"""`--record DIR`: every object's final state, the components' logs and the result, kept for later."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import yaml

from harness.scenario.conditions import ClusterView
from harness.scenario.objects import KINDS
from harness.scenario.result import RunResult


def write(dest: Path, view: ClusterView, created: list[dict[str, Any]], result: RunResult) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    objects: list[dict[str, Any]] = []
    for kind in ("Pod", "ResourceClaim", "ResourceClaimTemplate"):
        objects += view.objects.list(kind)
    for obj in created:
        if not KINDS[obj["kind"]].namespaced:
            now = view.objects.get(obj["kind"], obj["metadata"]["name"], api_version=obj["apiVersion"])
            if now is not None:
                objects.append(now)
    objects += view.kube.items("ResourceSlice")
    (dest / "objects.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False))
    (dest / "events.yaml").write_text(yaml.safe_dump(view.kube.events(view.namespace), sort_keys=False))
    view.logs.copy_to(dest / "logs")
    summary = {**dataclasses.asdict(result), "verdict": result.verdict}
    (dest / "result.json").write_text(json.dumps(summary, indent=2, default=str))
