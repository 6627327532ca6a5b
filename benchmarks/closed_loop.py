"""A closed-loop load: N callers, each looping prepare + unprepare of the claim it is handed next, for a
fixed time; the prepare latencies, how long the load really ran, and the errors that ended a caller."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.claims import ClaimRef
from benchmarks.kubelet import BenchKubelet


@dataclass
class LoadResult:
    prepares: int
    elapsed: float
    latencies: list[float]
    errors: list[str]


def closed_loop(
    kubelet: BenchKubelet, callers: int, seconds: float, next_claim: Callable[[int, int], ClaimRef]
) -> LoadResult:
    """`next_claim(caller, turn)` gives caller i its claim for its turn-th cycle."""
    start = threading.Barrier(callers + 1)
    latencies: list[list[float]] = [[] for _ in range(callers)]
    errors: list[str] = []
    ends: list[float] = []
    deadline = [0.0]

    def caller(index: int) -> None:
        mine = latencies[index]
        start.wait()
        turn = 0
        try:
            while time.perf_counter() < deadline[0]:
                claim = next_claim(index, turn)
                turn += 1
                began = time.perf_counter()
                kubelet.prepare([claim])
                mine.append(time.perf_counter() - began)
                kubelet.unprepare([claim])
        except Exception as exc:  # a failed call ends this caller; the error is reported, not raised
            errors.append(f"caller {index}: {' '.join(str(exc).split())[:300]}")
        ends.append(time.perf_counter())

    threads = [threading.Thread(target=caller, args=(i,), name=f"caller-{i}") for i in range(callers)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = (max(ends) if ends else began + seconds) - began
    flat = [x for per_caller in latencies for x in per_caller]
    return LoadResult(len(flat), elapsed, flat, errors)
