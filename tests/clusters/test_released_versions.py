"""Which Kubernetes releases exist comes from the Go module proxy (`go list -m -versions`), cached."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from clusters import paths
from clusters.toolchain import released, versions


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(paths.CACHE_ENV, str(tmp_path))
    return tmp_path


def test_a_cached_list_answers_without_asking_the_proxy(cache: Path) -> None:
    released.cache_file().parent.mkdir(parents=True)
    released.cache_file().write_text(json.dumps(["v1.34.0", "v1.34.9"]))
    assert released.served_versions("v1.34.9") == ["v1.34.0", "v1.34.9"]
    assert versions.resolve("1.34.9").kubernetes == "v1.34.9"


@pytest.mark.skipif(shutil.which("go") is None and not Path("/usr/local/go/bin/go").is_file(), reason="no go")
def test_a_version_missing_from_the_cache_asks_the_proxy_again(cache: Path) -> None:
    released.cache_file().parent.mkdir(parents=True)
    released.cache_file().write_text(json.dumps(["v1.34.9"]))
    served = released.served_versions("v1.34.3")
    assert "v1.34.3" in served and "v1.34.9" not in served
    assert all("-" not in v for v in served), "pre-releases are not releases"
    assert json.loads(released.cache_file().read_text()) == served
    with pytest.raises(versions.VersionError, match=r"not a release of k8s.io/kubernetes .*v1\.34\.3"):
        versions.resolve("1.34.77")
