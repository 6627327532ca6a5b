"""The checkpoint: one file per prepared claim, on disk when put/remove return, read back by a restart."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import asdict
from pathlib import Path

import pytest

from fakedevices.plugin.checkpoint import LEGACY_FILE, Checkpoint, CheckpointCorrupt, PreparedClaim, PreparedDevice
from tests.workers import run_workers


def _claim(uid: str) -> PreparedClaim:
    device = PreparedDevice("gpu", "node-a", "gpu-0", "gpu", "gpu-0", f"drafarm.dev/claim={uid}-gpu-0", uid, "/s")
    return PreparedClaim(uid, "ns", f"claim-{uid}", f"/cdi/{uid}.json", (device,))


def _uids(directory: Path) -> list[str]:
    return sorted(c.uid for c in Checkpoint(directory).claims())


def test_a_change_is_on_disk_when_put_or_remove_returns(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "claims")
    checkpoint.put(_claim("a"))
    checkpoint.put(_claim("b"))
    assert _uids(tmp_path / "claims") == ["a", "b"]
    checkpoint.remove("a")
    checkpoint.remove("never-there")
    assert _uids(tmp_path / "claims") == ["b"]
    assert Checkpoint(tmp_path / "claims").get("b") == _claim("b")


def test_a_change_touches_only_its_own_claims_file(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "claims")
    for uid in ("a", "b", "c"):
        checkpoint.put(_claim(uid))
    b = checkpoint.path_for("b").stat()
    checkpoint.remove("a")
    checkpoint.put(_claim("d"))
    after = checkpoint.path_for("b").stat()
    assert (after.st_ino, after.st_mtime_ns) == (b.st_ino, b.st_mtime_ns), "claim b's file was rewritten"
    assert sorted(p.name for p in (tmp_path / "claims").iterdir()) == ["b.json", "c.json", "d.json"]


def test_a_failed_write_changes_nothing(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "claims")
    checkpoint.put(_claim("kept"))
    squatter = checkpoint.path_for("lost")
    squatter.mkdir()
    (squatter / "x").write_text("a directory where the claim's file goes: the rename fails")
    with pytest.raises(OSError):
        checkpoint.put(_claim("lost"))
    assert checkpoint.get("lost") is None
    assert not list((tmp_path / "claims").glob(".*.tmp")), "the failed write left its temp file"
    (squatter / "x").unlink()
    squatter.rmdir()
    assert _uids(tmp_path / "claims") == ["kept"]


def test_concurrent_changes_of_many_claims(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "claims")
    kept: list[str] = []
    lock = threading.Lock()

    def churn(worker: int) -> None:
        for i in range(40):
            uid = f"w{worker}-{i}"
            checkpoint.put(_claim(uid))
            if i % 4:
                checkpoint.remove(uid)
            else:
                with lock:
                    kept.append(uid)

    run_workers(churn, 8)
    assert sorted(c.uid for c in checkpoint.claims()) == sorted(kept)
    assert _uids(tmp_path / "claims") == sorted(kept)


def test_uids_that_are_no_safe_file_name_stay_inside_the_directory(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "claims")
    checkpoint.put(_claim("../../escape"))
    assert checkpoint.path_for("../../escape").parent == tmp_path / "claims"
    assert _uids(tmp_path / "claims") == ["../../escape"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims"]


def test_restart_removes_cut_short_writes_and_refuses_a_tampered_file_with_the_fix(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "claims")
    checkpoint.put(_claim("a"))
    stale = tmp_path / "claims" / ".b.json.123-456-7.tmp"
    stale.write_text('{"version":2,"chec')
    assert _uids(tmp_path / "claims") == ["a"]
    assert not stale.exists()
    path = checkpoint.path_for("a")
    path.write_text(path.read_text().replace("claim-a", "claim-z"))
    with pytest.raises(CheckpointCorrupt, match=r"a\.json is unreadable \(checksum mismatch.*move it aside"):
        Checkpoint(tmp_path / "claims")


def test_a_single_file_checkpoint_of_the_previous_format_is_adopted(tmp_path: Path) -> None:
    body = {uid: asdict(_claim(uid)) for uid in ("old-1", "old-2")}
    checksum = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    legacy = tmp_path / LEGACY_FILE
    legacy.write_text(json.dumps({"version": 1, "checksum": checksum, "claims": body}))
    checkpoint = Checkpoint(tmp_path / "claims")
    assert checkpoint.get("old-1") == _claim("old-1")
    assert not legacy.exists()
    assert _uids(tmp_path / "claims") == ["old-1", "old-2"]
    legacy.write_text(json.dumps({"version": 1, "checksum": "0" * 64, "claims": body}))
    with pytest.raises(CheckpointCorrupt, match="move it aside"):
        Checkpoint(tmp_path / "claims")
