"""The devices lock: tests share a driver's devices; one that takes them away waits for them alone, and
tests that come after it wait for it."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from clusters.polling import poll
from harness import device_lock
from tests.file_locks import locked_by_another

KUBECONFIG = Path("/nonexistent/kubeconfig")


@pytest.fixture
def driver(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(device_lock, "WAIT_S", 0.5)
    return f"lock-{uuid.uuid4().hex[:8]}.test"


def test_tests_share_the_devices(driver: str) -> None:
    with device_lock.shared(driver, KUBECONFIG), device_lock.shared(driver, KUBECONFIG):
        pass


def test_a_test_alone_waits_for_the_others_and_names_what_it_waited_for(driver: str) -> None:
    with (
        device_lock.shared(driver, KUBECONFIG),
        pytest.raises(device_lock.DeviceLockTimeout, match="to finish"),
        device_lock.exclusive(driver, KUBECONFIG),
    ):
        pass
    with device_lock.exclusive(driver, KUBECONFIG):
        pass


def test_tests_that_start_while_one_waits_to_be_alone_queue_behind_it(driver: str) -> None:
    release_reader = threading.Event()
    reading = threading.Event()
    outcome: list[str] = []

    def reader() -> None:
        with device_lock.shared(driver, KUBECONFIG):
            reading.set()
            release_reader.wait(10)

    def writer() -> None:
        with device_lock.exclusive(driver, KUBECONFIG, wait=10):
            outcome.append("alone")

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    threads[0].start()
    assert reading.wait(5)
    threads[1].start()
    turnstile, _ = device_lock._files(driver, KUBECONFIG)
    poll(lambda: locked_by_another(turnstile), 5, 0.01)
    with (
        pytest.raises(device_lock.DeviceLockTimeout, match="holds them alone"),
        device_lock.shared(driver, KUBECONFIG, wait=0.3),
    ):
        pass
    release_reader.set()
    for thread in threads:
        thread.join(10)
    assert outcome == ["alone"]
