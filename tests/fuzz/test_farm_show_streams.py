"""`farm show` writes node by node: the same text as rendering the whole farm, in memory that does not
grow with the number of nodes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.render import RENDERERS
from fakedevices.render_stream import STREAMERS

REPO = Path(__file__).resolve().parents[2]
FARM = """apiVersion: drafarm.dev/v1alpha1
kind: Farm
metadata: {{name: wide}}
spec:
  nodeGroups:
  - name: g
    count: {count}
    devices:
      gpu: {{count: 8, model: df200, partitions: true}}
"""
PEAK_RSS = (
    "import resource, runpy, sys\n"
    "sys.argv = ['drafarm', 'farm', 'show', sys.argv[1], '-o', 'json']\n"
    "try:\n    runpy.run_module('harness', run_name='__main__')\nexcept SystemExit:\n    pass\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)
GROWTH_KIB = 15 * 1024


@pytest.mark.parametrize("name", ["small", "mixed"])
@pytest.mark.parametrize("output", sorted(STREAMERS))
def test_streamed_output_is_the_rendered_output(name: str, output: str) -> None:
    spec = load_farm_spec(name)
    streamed = io.StringIO()
    STREAMERS[output](spec, 7, streamed.write)
    assert streamed.getvalue() == RENDERERS[output](build_farm(spec, 7))


def _peak_rss_kib(tmp_path: Path, count: int) -> int:
    spec = tmp_path / f"wide-{count}.yaml"
    spec.write_text(FARM.format(count=count))
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, str(spec)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=True,
        cwd=REPO,
    )
    return int(result.stderr.strip().splitlines()[-1])


def test_memory_does_not_grow_with_nodes(tmp_path: Path) -> None:
    few, many = _peak_rss_kib(tmp_path, 10), _peak_rss_kib(tmp_path, 40)
    assert many - few < GROWTH_KIB, f"peak RSS {few} KiB for 10 nodes, {many} KiB for 40"
