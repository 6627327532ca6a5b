"""Run one piece of work on several threads at once and wait for them all: the tests' concurrency drive."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_workers(work: Callable[[int], None], workers: int, timeout: float = 30) -> None:
    """`work(0)` ... `work(workers - 1)`, each on its own thread, all started before any is joined."""
    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
