"""The same spec and seed give byte-identical farms; another seed gives other identities."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.farmspec.schema import MAX_SEED, FarmSpec
from fakedevices.render import render_json

SMALL: FarmSpec = load_farm_spec("small")
MIXED: FarmSpec = load_farm_spec("mixed")
IDENTITY_ATTRIBUTES = ("uuid", "serial", "pciAddress", "firmwareVersion", "macAddress", "partNumber")


def _identities(spec: FarmSpec, seed: int) -> list[tuple[str, str, object]]:
    farm = build_farm(spec, seed)
    return [
        (device.name, key, device.attributes[key].value)
        for _, device in farm.all_devices()
        for key in IDENTITY_ATTRIBUTES
        if key in device.attributes
    ]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=MAX_SEED))
def test_same_seed_gives_byte_identical_farm(seed: int) -> None:
    assert render_json(build_farm(MIXED, seed)) == render_json(build_farm(MIXED, seed))


@settings(max_examples=25, deadline=None)
@given(pair=st.lists(st.integers(min_value=0, max_value=MAX_SEED), min_size=2, max_size=2, unique=True))
def test_different_seed_gives_different_identities(pair: list[int]) -> None:
    first, second = (_identities(SMALL, s) for s in pair)
    assert [(n, k) for n, k, _ in first] == [(n, k) for n, k, _ in second]
    uuids = [(v1, v2) for (_, k, v1), (_, _, v2) in zip(first, second, strict=True) if k == "uuid"]
    assert all(v1 != v2 for v1, v2 in uuids)


def test_spec_seed_is_the_default_and_identities_are_unique() -> None:
    assert build_farm(SMALL).seed == 42
    uuids = [v for _, k, v in _identities(MIXED, 7) if k == "uuid"]
    assert len(uuids) == len(set(uuids))


def test_adding_a_node_leaves_other_identities_unchanged() -> None:
    bigger = FarmSpec(
        SMALL.name,
        SMALL.seed,
        SMALL.driver,
        (SMALL.node_groups[0].__class__(**{**SMALL.node_groups[0].__dict__, "count": 2}),),
        SMALL.network_pools,
    )
    before = build_farm(SMALL).nodes[0]
    after = build_farm(bigger).nodes[0]
    assert [d.to_api() for d in before.devices] == [d.to_api() for d in after.devices]


def test_identities_look_real() -> None:
    farm = build_farm(SMALL)
    gpu = next(d for _, d in farm.all_devices() if d.name == "gpu-0")
    camera = next(d for _, d in farm.all_devices() if d.kind == "camera")
    assert str(gpu.attributes["uuid"].value).startswith("GPU-")
    assert str(gpu.attributes["pciAddress"].value).startswith("0000:")
    mac = str(camera.attributes["macAddress"].value)
    assert int(mac.split(":")[0], 16) & 0x02  # locally administered, never a vendor's OUI
    assert str(camera.attributes["ipAddress"].value).startswith("198.19.")


def test_binding_farm_nodes_to_cluster_nodes_keeps_identities() -> None:
    farm = build_farm(SMALL)
    bound = farm.bind_nodes({"drafarm-worker-0": "kind-worker"})
    assert [n.name for n in bound.nodes] == ["kind-worker"]
    assert bound.pools[0].nodes == ("kind-worker",)
    assert [d.to_api() for d in bound.nodes[0].devices] == [d.to_api() for d in farm.nodes[0].devices]
