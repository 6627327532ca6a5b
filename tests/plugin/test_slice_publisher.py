"""Two instances of a node's plugin publish the node's slices at once (a rolling upgrade): they settle on
one generation without writing over each other, and one stopping withdraws nothing."""

from __future__ import annotations

import copy
from typing import Any

from fakedevices.farm import build_farm
from fakedevices.farmspec.loader import load_farm_spec
from fakedevices.plugin.slice_builder import PoolPlacement
from fakedevices.plugin.slice_publisher import PublishedPool, SlicePublisher
from tests.plugin.kit import DRIVER, NODE


class SliceStore:
    """The API server's ResourceSlices, as the publisher's `SliceApi` sees them; counts the writes."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.writes = 0

    def list_pool(self, pool: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(o) for o in self.objects.values() if o["spec"]["pool"]["name"] == pool]

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        assert obj["metadata"]["name"] not in self.objects, "created twice"
        return self._store(obj)

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        assert obj["metadata"]["name"] in self.objects, "replaced before it was created"
        return self._store(obj)

    def delete(self, name: str) -> None:
        self.writes += 1
        self.objects.pop(name, None)

    def _store(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.writes += 1
        self.objects[obj["metadata"]["name"]] = copy.deepcopy(obj)
        return copy.deepcopy(obj)


def _publisher(store: SliceStore) -> SlicePublisher:
    node = build_farm(load_farm_spec("small")).node(NODE)
    pools = [PublishedPool(NODE, node.inventory, PoolPlacement(node_name=NODE))]
    return SlicePublisher(store, DRIVER, pools, counters_separate=True)


def test_two_instances_settle_on_one_generation_and_stop_writing() -> None:
    store = SliceStore()
    old = _publisher(store)
    assert old.sync()
    published = copy.deepcopy(store.objects)
    new = _publisher(store)
    for _ in range(3):
        assert not new.sync() and not old.sync(), "the two instances write over each other"
    assert store.objects == published
    assert new.status.generations == old.status.generations


def test_the_instance_that_stays_republishes_what_was_deleted_and_the_other_follows() -> None:
    store = SliceStore()
    old, new = _publisher(store), _publisher(store)
    old.sync()
    new.sync()
    store.objects.clear()  # a kubelet restart deletes the node's slices
    assert new.sync()
    generation = new.status.generations[NODE]
    assert {o["spec"]["pool"]["generation"] for o in store.objects.values()} == {generation}
    writes = store.writes
    assert not old.sync() and store.writes == writes and old.status.generations[NODE] == generation


def test_stopping_an_instance_withdraws_no_slice() -> None:
    store = SliceStore()
    old, new = _publisher(store), _publisher(store)
    old.sync()
    new.sync()
    old.start()
    old.stop()
    assert store.objects and not new.sync()
