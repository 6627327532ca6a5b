"""Each farm-spec breakage found by fuzzing (issue 14), fixed at its cause: the project's own error, fast."""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from fakedevices.farmspec.loader import EXAMPLES, load_farm_spec, resolve_spec_path
from fakedevices.farmspec.schema import parse_farm_spec
from fakedevices.spec.bounded_yaml import MAX_DOCUMENT_BYTES
from fakedevices.spec.problems import MAX_LINE_CHARS, MAX_PROBLEMS_SHOWN, SpecError

SMALL_TEXT = (EXAMPLES / "small.yaml").read_text()
SMALL: dict[str, Any] = yaml.safe_load(SMALL_TEXT)
FAST_SECONDS = 5.0  # the slow inputs of issue 14 took 30 s and more


def _document(**gpu: Any) -> dict[str, Any]:
    document = copy.deepcopy(SMALL)
    document["spec"]["nodeGroups"][0]["devices"]["gpu"] = {"count": 1, **gpu}
    return document


def _problems(document: Any) -> str:
    started = time.monotonic()
    with pytest.raises(SpecError) as err:
        parse_farm_spec(document, "spec.yaml")
    assert time.monotonic() - started < FAST_SECONDS
    return str(err.value)


def _file_problems(path: Path | str) -> str:
    started = time.monotonic()
    with pytest.raises(SpecError) as err:
        load_farm_spec(path)
    assert time.monotonic() - started < FAST_SECONDS
    return str(err.value)


@pytest.mark.parametrize("memory", [{}, {"memory": 0}], ids=["missing", "zero"])
def test_partition_without_memory(memory: dict[str, Any]) -> None:
    text = _problems(_document(partitions=[{"name": "p1", "computeSlices": 1, **memory}]))
    assert "devices.gpu.partitions[0].memory: got" in text


def test_mixed_key_types() -> None:
    document = copy.deepcopy(SMALL)
    document["spec"][1] = "one"
    document["spec"][None] = {2: "x", "y": 3}
    text = _problems(document)
    assert 'spec.1: got "one"; unknown field' in text


def test_recursive_value() -> None:
    document = copy.deepcopy(SMALL)
    loop: list[Any] = []
    loop.append(loop)
    document["spec"]["extra"] = loop
    assert "spec.extra: got [[[[" in _problems(document)


def test_deep_value() -> None:
    document = copy.deepcopy(SMALL)
    deep: Any = "bottom"
    for _ in range(3000):
        deep = [deep]
    document["spec"]["extra"] = deep
    assert "spec.extra: got [[[[" in _problems(document)


def test_huge_integer() -> None:
    document = copy.deepcopy(SMALL)
    document["spec"]["seed"] = 10**10000
    assert "spec.seed: got <an integer of about 10000 digits>" in _problems(document)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x [*x]\n", "an anchor used inside itself"),
        ("a: &x {b: *x}\n", "an anchor used inside itself"),
        ("[" * 3000 + "]" * 3000, "nesting depth"),
        ("a:\n" + "".join(" " * i + "- \n" for i in range(1, 60)), "nesting deeper than 32 levels"),
        ("spec:\n  seed: " + "9" * 10000 + "\n", "an integer of 10000 digits"),
        (SMALL_TEXT + "kind: Farm\n", "duplicate key 'kind'"),
        ("a: 1\nb: {c: 1, c: 2}\n", "duplicate key 'c'"),
        (
            "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
            + "".join(
                f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            "values once aliases are expanded",
        ),
        ("spec: [" + "1, " * 200_000 + "]\n", "more than 100000 values"),
    ],
    ids=[
        "recursive-list",
        "recursive-map",
        "flow-nesting",
        "block-nesting",
        "long-int",
        "duplicate-top",
        "duplicate-inner",
        "billion-laughs",
        "many-values",
    ],
)
def test_bounded_yaml(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "farm.yaml"
    path.write_text(text)
    message = _file_problems(path)
    assert expected in message
    assert message.startswith(f"{path}: line ")


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "farm.yaml"
    path.write_bytes(SMALL_TEXT.encode() + b"\n# \xff\xfe\n")
    assert 'file: got "byte 0xff at offset' in _file_problems(path)


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "farm.yaml"
    with path.open("w") as handle:
        handle.write(SMALL_TEXT)
        handle.write(("# " + "x" * 1000 + "\n") * (40 * 1024))  # 40 MB
    assert f"more than {MAX_DOCUMENT_BYTES} bytes" in _file_problems(path)


def test_directory_and_empty_path(tmp_path: Path) -> None:
    assert 'file: got "a directory"' in _file_problems(tmp_path)
    assert "give a path to a farm spec" in _file_problems("")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "farm.yaml"
    path.write_text(SMALL_TEXT)
    path.chmod(0)
    assert "make the file readable" in _file_problems(path)


def test_unreadable_fifo(tmp_path: Path) -> None:
    path = tmp_path / "farm.yaml"
    os.mkfifo(path)
    assert "not a regular file" in _file_problems(path)


def test_a_folder_does_not_shadow_an_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "small").mkdir()
    monkeypatch.chdir(tmp_path)
    assert resolve_spec_path("small") == EXAMPLES / "small.yaml"
    assert load_farm_spec("small").name == "small"


def test_name_pattern_checked_at_its_longest_index() -> None:
    document = copy.deepcopy(SMALL)
    group = document["spec"]["nodeGroups"][0]
    group.update(namePattern="n" * 61 + "{index}", count=200)  # index 0 fits 63 characters, index 199 does not
    assert "(index 199), which is not a lowercase DNS name of at most 63" in _problems(document)


@pytest.mark.parametrize("pattern", ["n-{index:>100000000}", "n-{index:099999d}", "n-{index!r}", "n-{index.real}"])
def test_name_pattern_format_specs_are_bounded(pattern: str) -> None:
    document = copy.deepcopy(SMALL)
    document["spec"]["nodeGroups"][0]["namePattern"] = pattern
    assert "only {index}, {index:0Nd}" in _problems(document)


def test_name_pattern_zero_padding_is_allowed() -> None:
    document = copy.deepcopy(SMALL)
    document["spec"]["nodeGroups"][0].update(namePattern="node-{index:03d}", count=3)
    assert parse_farm_spec(document).node_groups[0].node_names() == ["node-000", "node-001", "node-002"]


@pytest.mark.parametrize("address", ["not-an-ip", "300.1.1.1", "1.2.3.4; rm -rf /", ""])
def test_camera_bind_address_must_be_an_ip(address: str) -> None:
    document = copy.deepcopy(SMALL)
    document["spec"]["networkPools"][0]["bindAddress"] = address
    assert "networkPools[0].bindAddress: got" in _problems(document)


def test_camera_bind_address_ip_is_accepted() -> None:
    document = copy.deepcopy(SMALL)
    document["spec"]["networkPools"][0]["bindAddress"] = "198.19.7.10"
    assert parse_farm_spec(document).network_pools[0].options.bind_address == "198.19.7.10"


@pytest.mark.parametrize("memory", ["1e20000000", "9" * 90 + "Gi", "2Ei"])
def test_huge_quantities_are_refused_fast(memory: str) -> None:
    assert "devices.gpu.memory: got" in _problems(_document(memory=memory))


def test_error_messages_are_bounded() -> None:
    document = copy.deepcopy(SMALL)
    for i in range(500):
        document["spec"][f"{'k' * 10_000}{i}"] = "v" * 100_000
    text = _problems(document)
    lines = text.splitlines()
    assert len(lines) == MAX_PROBLEMS_SHOWN + 1
    assert "450 more problem(s)" in lines[-1]
    assert max(len(line) for line in lines) <= MAX_LINE_CHARS + len("spec.yaml: ")


def test_newline_in_a_key_stays_on_one_line() -> None:
    document = copy.deepcopy(SMALL)
    document["spec"]["bad\nkey\u2028x"] = 1
    lines = _problems(document).splitlines()
    assert len(lines) == 1
    assert "spec.bad\\u000akey\\u2028x: got 1; unknown field" in lines[0]
