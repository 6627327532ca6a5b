"""kind's room for inotify instances: raised only when the nodes would not fit, put back when all fits."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusters.kind import inotify


@pytest.fixture
def fake_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "max_user_instances"
    monkeypatch.setattr(inotify, "LIMIT", path)
    return path


def test_in_use_counts_this_process_instances() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    before = inotify.in_use()
    fd = libc.inotify_init()
    assert fd >= 0
    try:
        assert inotify.in_use() >= before + 1
    finally:
        libc.close(fd)


def test_the_limit_is_raised_only_when_the_nodes_would_not_fit(
    fake_limit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    monkeypatch.setattr(inotify, "in_use", lambda: 100)
    fake_limit.write_text("4096\n")
    assert inotify.make_room(3, said.append) is None and fake_limit.read_text() == "4096\n"
    fake_limit.write_text("128\n")
    assert inotify.make_room(7, said.append) == 128
    assert int(fake_limit.read_text()) >= 100 + 7 * inotify.PER_NODE and "128 →" in said[-1]


def test_the_old_limit_comes_back_once_what_runs_fits(fake_limit: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_limit.write_text("512\n")
    monkeypatch.setattr(inotify, "in_use", lambda: 120)
    assert not inotify.put_back(128, lambda _s: None), "120 in use does not fit 128 with the margin"
    monkeypatch.setattr(inotify, "in_use", lambda: 40)
    assert inotify.put_back(128, lambda _s: None) and fake_limit.read_text() == "128\n"
