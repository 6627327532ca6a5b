"""The checkpoint: changes are on disk when put/remove return; concurrent changes share one write."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from fakedevices.plugin.checkpoint import Checkpoint, CheckpointCorrupt, PreparedClaim, PreparedDevice


def _claim(uid: str) -> PreparedClaim:
    device = PreparedDevice("gpu", "node-a", "gpu-0", "gpu", "gpu-0", f"drafarm.dev/claim={uid}-gpu-0", uid, "/s")
    return PreparedClaim(uid, "ns", f"claim-{uid}", f"/cdi/{uid}.json", (device,))


class GatedCheckpoint(Checkpoint):
    """Counts its file writes; the first one waits for `release` (a slow disk), write `failing` fails."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes = 0
        self.first_write_started = threading.Event()
        self.release = threading.Event()
        self.failing = 0

    def _write(self, claims: dict[str, PreparedClaim]) -> None:
        self.writes += 1
        if self.writes == 1:
            self.first_write_started.set()
            assert self.release.wait(10)
        if self.writes == self.failing:
            raise OSError(28, "No space left on device")
        super()._write(claims)


def _in_threads(calls: list[Any]) -> tuple[list[threading.Thread], list[BaseException]]:
    errors: list[BaseException] = []

    def run(call: Any) -> None:
        try:
            call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    return threads, errors


def _queued(checkpoint: Checkpoint, uids: list[str]) -> bool:
    """Until every change is queued: readers see a change from the moment it waits for its write."""
    pause = threading.Event()
    for _ in range(1000):
        if all(checkpoint.get(uid) is not None for uid in uids):
            return True
        pause.wait(0.01)  # poll: the callers queue their changes from their own threads
    return False


def test_concurrent_changes_share_one_write(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    checkpoint = GatedCheckpoint(path)
    first, first_errors = _in_threads([lambda: checkpoint.put(_claim("first"))])
    assert checkpoint.first_write_started.wait(10)
    uids = [f"claim-{i}" for i in range(7)]
    threads, errors = _in_threads([lambda uid=uid: checkpoint.put(_claim(uid)) for uid in uids])
    assert _queued(checkpoint, uids)
    checkpoint.release.set()
    for thread in first + threads:
        thread.join(10)
    assert errors == first_errors == []
    assert checkpoint.writes == 2, "the seven changes queued during the first write were not written together"
    assert sorted(c.uid for c in Checkpoint(path).claims()) == sorted(["first", *uids])


def test_a_change_is_on_disk_when_put_or_remove_returns(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    checkpoint = Checkpoint(path)
    checkpoint.put(_claim("a"))
    checkpoint.put(_claim("b"))
    assert [c.uid for c in Checkpoint(path).claims()] == ["a", "b"]
    checkpoint.remove("a")
    checkpoint.remove("never-there")
    reloaded = Checkpoint(path)
    assert [c.uid for c in reloaded.claims()] == ["b"]
    assert reloaded.get("b") == _claim("b")


def test_a_failed_write_fails_every_change_in_it_and_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    Checkpoint(path).put(_claim("kept"))
    checkpoint = GatedCheckpoint(path)
    checkpoint.failing = 2  # the batch queued behind the first write hits a full disk
    blocker, blocker_errors = _in_threads([lambda: checkpoint.put(_claim("blocker"))])
    assert checkpoint.first_write_started.wait(10)
    threads, errors = _in_threads([lambda uid=uid: checkpoint.put(_claim(uid)) for uid in ("lost-1", "lost-2")])
    assert _queued(checkpoint, ["lost-1", "lost-2"])
    checkpoint.release.set()
    for thread in blocker + threads:
        thread.join(10)
    assert blocker_errors == []
    assert len(errors) == 2
    assert all(isinstance(e, OSError) and "No space left" in str(e) for e in errors)
    assert checkpoint.get("lost-1") is None and checkpoint.get("lost-2") is None
    assert sorted(c.uid for c in Checkpoint(path).claims()) == ["blocker", "kept"]
    checkpoint.put(_claim("after"))
    assert sorted(c.uid for c in Checkpoint(path).claims()) == ["after", "blocker", "kept"]


def test_a_tampered_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    Checkpoint(path).put(_claim("a"))
    path.write_text(path.read_text().replace("claim-a", "claim-b"))
    with pytest.raises(CheckpointCorrupt, match="move it aside"):
        Checkpoint(path)
