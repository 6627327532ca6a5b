"""Host-control requests are signed with the pool key: a changed field, another key, a missing or stale
stamp are refused; keys of the wrong size are refused with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakedevices.emulator.errors import RequestError
from fakedevices.remote import auth

KEY = b"sixteen or more bytes of key"
NOW = 1_700_000_000.0


def test_a_signed_request_passes_and_any_change_to_it_is_refused() -> None:
    signed = auth.sign({"op": "open", "device": "cam", "session": "s", "limits": {"bandwidth_mbps": 10.0}}, KEY, NOW)
    auth.check(signed, KEY, NOW + 1)
    with pytest.raises(RequestError, match="bad signature"):
        auth.check({**signed, "session": "other"}, KEY, NOW)
    with pytest.raises(RequestError, match="bad signature"):
        auth.check(signed, b"another key of the same pool size", NOW)
    with pytest.raises(RequestError, match="not signed"):
        auth.check({k: v for k, v in signed.items() if k != "auth"}, KEY, NOW)


def test_a_request_stamped_too_far_from_the_hosts_clock_is_refused() -> None:
    signed = auth.sign({"op": "status", "device": "cam"}, KEY, NOW)
    with pytest.raises(RequestError, match="replayed"):
        auth.check(signed, KEY, NOW + auth.MAX_SKEW_S + 1)
    unstamped = {"op": "status", "device": "cam"}
    unstamped["auth"] = auth.sign(unstamped, KEY, NOW)["auth"]
    with pytest.raises(RequestError):
        auth.check(unstamped, KEY, NOW)


def test_keys_of_the_wrong_size_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "key"
    path.write_bytes(KEY + b"\n")
    assert auth.read_key_file(path) == KEY
    path.write_bytes(b"short\n")
    with pytest.raises(auth.NetworkKeyError, match="holds 5 bytes"):
        auth.read_key_file(path)
    with pytest.raises(auth.NetworkKeyError, match="cannot read"):
        auth.read_key_file(tmp_path / "missing")
    monkeypatch.setenv(auth.KEY_ENV, "  " + KEY.decode() + "\n")
    assert auth.key_from_env() == KEY
