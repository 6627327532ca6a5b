"""The kind registry: built-in kinds in order, entry points checked, and the client agreeing with it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from fakedevices.client import cli as client_cli
from fakedevices.client import env as client_env
from fakedevices.kinds import registry
from fakedevices.kinds.placement import OnNetwork, OnNode
from tests.fakedevices.installed import installed

PACKAGE = "drafarm_registry_probe"
Install = Callable[[str, str], None]


@pytest.fixture
def install(tmp_path: Path) -> Iterator[Install]:
    """install(module source, entry point "name = value"): a distribution of that module, on sys.path."""
    with ExitStack() as stack:

        def install(source: str, entry_point: str) -> None:
            name, _, value = (part.strip() for part in entry_point.partition("="))
            stack.enter_context(installed(tmp_path, PACKAGE, {f"{PACKAGE}.py": source}, {name: value}))

        yield install


def test_built_in_kinds_in_the_order_a_node_builds_them() -> None:
    assert registry.names()[:3] == ("gpu", "fpga", "camera")
    assert registry.node_kinds()[:2] == ("gpu", "fpga")
    assert "camera" in registry.network_kinds()
    assert registry.for_config("CameraConfig") is registry.get("camera")


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="no device kind 'tpu'; known kinds: gpu, fpga, camera"):
        registry.get("tpu")


@pytest.mark.parametrize(
    ("source", "entry_point", "message"),
    [
        ("import nowhere_to_be_found\n", "probe = drafarm_registry_probe:KIND", "does not load"),
        (
            "from fakedevices.kinds.gpu import KIND\n",
            "probe = drafarm_registry_probe:KIND",
            "gives a kind named 'gpu'; name the entry point after its kind",
        ),
        ("from fakedevices.kinds.gpu import KIND\n", "gpu = drafarm_registry_probe:KIND", "is already registered"),
        (
            "from fakedevices.kinds.gpu import GpuKind\nclass K(GpuKind):\n    name = 'Probe_1'\nKIND = K()\n",
            "Probe_1 = drafarm_registry_probe:KIND",
            "must be a lower-case letter",
        ),
        (
            "from fakedevices.kinds.gpu import GpuKind\nclass K(GpuKind):\n    name = 'probe'\nKIND = K()\n",
            "probe = drafarm_registry_probe:KIND",
            "config kind 'GpuConfig' is taken by kind 'gpu'",
        ),
    ],
    ids=["import-error", "misnamed", "taken", "bad-name", "config-kind-taken"],
)
def test_a_bad_entry_point_is_refused_with_what_to_do(
    install: Install, source: str, entry_point: str, message: str
) -> None:
    install(source, entry_point)
    with pytest.raises(registry.KindRegistryError, match=f"entry point .*{message}"):
        registry.names()


def test_the_client_reaches_its_kinds_the_way_the_registry_places_them() -> None:
    for name, key in client_cli.COMMAND_KINDS.items():
        placement = registry.get(name).placement
        assert key == (client_env.ADDR if isinstance(placement, OnNetwork) else client_env.SOCKET), name
        assert isinstance(placement, OnNode | OnNetwork)
    assert all(client_env.KIND_NAME.fullmatch(name) for name in registry.names())
