"""A new instance of a node's plugin started while the old one runs (a rolling upgrade), against a client
that plays the kubelet: each registers with sockets of its own, both serve the claims of one checkpoint,
a claim one prepared the other unprepares, and the one that leaves hands its sockets to the one that
stays, which keeps the node's state."""

from __future__ import annotations

import concurrent.futures
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakedevices.plugin.api import ClaimRef
from fakedevices.plugin.checkpoint import Checkpoint
from fakedevices.plugin.control_client import PluginControl
from fakedevices.plugin.driver import NodeDriver
from fakedevices.plugin.instance_lock import AlreadyRunning, InstanceLock
from fakedevices.plugin.inventory import NodeInventory
from fakedevices.plugin.layout import registration_dir
from tests.plugin.instances import TIME_SLICED, Instance, layout_of, session_sockets, small_farm, works
from tests.plugin.kit import DRIVER, NODE, Claim, ClaimStore, result
from tests.polling import wait_for


def test_two_instances_register_at_once_each_with_its_own_sockets(
    claims: ClaimStore, instances: Callable[..., Instance]
) -> None:
    old = instances()  # the plugin as it ran before: no instance ID
    new = instances("7f3c9a1e-uid")
    assert old.layout.registration_socket.name == f"{DRIVER}-reg.sock"
    assert new.layout.registration_socket.name == f"{DRIVER}-7f3c9a1e-uid-reg.sock"
    assert sorted(p.name for p in registration_dir(new.layout.kubelet_root).iterdir()) == sorted(
        [old.layout.registration_socket.name, new.layout.registration_socket.name]
    )
    assert (old.kubelet.endpoint, new.kubelet.endpoint) == (
        str(old.layout.service_socket),
        str(new.layout.service_socket),
    )
    assert new.layout.service_socket.name == "dra-7f3c9a1e-uid.sock"
    first = claims.add(Claim("through-old", [result("gpu", "gpu-0")]))
    second = claims.add(Claim("through-new", [result("gpu", "gpu-1")]))
    assert works(old.prepared(first)) and works(new.prepared(second))


def test_a_claim_prepared_through_the_old_instance_is_unprepared_through_the_new_one_after_the_old_stopped(
    claims: ClaimStore, instances: Callable[..., Instance]
) -> None:
    old = instances()
    before = claims.add(Claim("before-the-switch", [result("gpu", "gpu-0")]))
    view_before = old.prepared(before)
    new = instances("v2")
    during = claims.add(Claim("during-the-switch", [result("gpu", "gpu-1")]))
    view_during = old.prepared(during)  # the kubelet may still call the old one after the new one started
    old.stop()

    for view in (view_before, view_during):
        assert works(view), "a container lost its device when the old instance stopped"
    for claim, view in ((before, view_before), (during, view_during)):
        claims.delete(claim)  # unprepare works from the checkpoint alone
        answer = new.kubelet.unprepare(claim).claims[claim.uid]
        assert answer.error == ""
        assert not new.layout.cdi_spec(claim.uid).exists(), "CDI spec left behind"
        assert not new.driver.checkpoint.path_for(claim.uid).exists(), "checkpoint entry left behind"
        assert not any(p.exists() for p in session_sockets(view)), "emulator session left open"
        assert not works(view)
    assert all(new.driver.runner.get(gpu).session_ids == [] for gpu in ("gpu-0", "gpu-1"))
    again = claims.add(Claim("after-the-switch", [result("gpu", "gpu-0")]))
    assert works(new.prepared(again)), "the exclusive GPU the old instance had is not free in the new one"


def test_prepares_through_both_at_once_never_corrupt_the_checkpoint(
    claims: ClaimStore, instances: Callable[..., Instance]
) -> None:
    old = instances()
    new = instances("v2")
    gpus = ("gpu-0", "gpu-1", "gpu-2")
    batches = {
        instance: [claims.add(Claim(f"{name}-{i}", [result("gpu", gpus[i % 3])], [TIME_SLICED])) for i in range(24)]
        for name, instance in (("old", old), ("new", new))
    }
    both = claims.add(Claim("asked-of-both", [result("gpu", "gpu-2")], [TIME_SLICED]))

    def churn(instance: Instance) -> list[str]:
        kept = []
        for i, claim in enumerate(batches[instance]):
            assert instance.kubelet.prepare(claim, both).claims[claim.uid].error == ""
            if i % 3:
                assert instance.kubelet.unprepare(claim).claims[claim.uid].error == ""
            else:
                kept.append(claim.uid)
        return kept

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        kept = [uid for uids in pool.map(churn, (old, new)) for uid in uids] + [both.uid]

    assert sorted(c.uid for c in Checkpoint(old.layout.checkpoint_dir).claims()) == sorted(kept)
    assert sorted(p.name for p in old.layout.cdi_specs()) == sorted(old.layout.cdi_spec(u).name for u in kept)
    leftovers = [p for p in (old.layout.checkpoint_dir, old.layout.cdi_dir) for p in p.glob(".*.tmp")]
    assert leftovers == []
    answers = [i.kubelet.prepare(both).claims[both.uid] for i in (old, new)]
    assert answers[0] == answers[1] and answers[0].error == ""
    wait_for(
        lambda: all(_sessions(i) == _expected_sessions(kept, batches, both) for i in (old, new)),
        30,
        "both instances to hold a session for every prepared claim",
        lambda: f"old {len(_sessions(old))}, new {len(_sessions(new))}, claims {len(kept)}",
    )


def _sessions(instance: Instance) -> set[str]:
    return {s for gpu in ("gpu-0", "gpu-1", "gpu-2") for s in instance.driver.runner.get(gpu).session_ids}


def _expected_sessions(kept: list[str], batches: dict[Instance, list[Claim]], both: Claim) -> set[str]:
    devices = {c.uid: c.results[0]["device"] for claims in batches.values() for c in claims}
    devices[both.uid] = "gpu-2"
    return {f"{uid}-{devices[uid]}" for uid in kept}


def test_a_second_instance_with_the_same_id_is_refused(short_tmp: Path) -> None:
    state = short_tmp / "state"
    first, plain = InstanceLock(state, "v2"), InstanceLock(state)
    try:
        with pytest.raises(AlreadyRunning, match=rf"plugin instance 'v2' \(pid {os.getpid()}\) already serves"):
            InstanceLock(state, "v2")
        with pytest.raises(AlreadyRunning, match="start this one beside it with --instance ID"):
            InstanceLock(state)
        InstanceLock(state, "v3").release()  # another ID runs beside them
    finally:
        first.release()
        plain.release()
    InstanceLock(state, "v2").release()
    assert sorted(p.name for p in state.iterdir()) == [], "a released instance left its lock file"


def test_the_old_instance_exiting_leaves_the_new_ones_sockets_and_the_nodes_state_alone(
    claims: ClaimStore, instances: Callable[..., Instance]
) -> None:
    old = instances()
    kept = claims.add(Claim("kept", [result("gpu", "gpu-0")]))
    view = old.prepared(kept)
    new = instances("v2")
    checkpointed = new.driver.checkpoint.path_for(kept.uid).read_bytes()
    spec = new.layout.cdi_spec(kept.uid).read_bytes()
    old.stop()

    for socket in (new.layout.registration_socket, new.layout.service_socket, new.layout.control_socket):
        assert socket.exists(), f"{socket} went with the old instance"
    assert not old.layout.registration_socket.exists() and not old.layout.service_socket.exists()
    assert new.kubelet.prepare(kept).claims[kept.uid].error == ""
    assert PluginControl.at(new.layout.control_socket).status().prepared == (kept.uid,)
    assert new.driver.checkpoint.path_for(kept.uid).read_bytes() == checkpointed
    assert new.layout.cdi_spec(kept.uid).read_bytes() == spec
    assert works(view)
    held = set(new.driver.sockets_held())
    assert {*(session_sockets(view)), new.driver.runner.get("gpu-0").device_socket} <= held  # type: ignore[attr-defined]


def test_the_old_instance_takes_back_what_a_new_one_that_failed_had_taken(
    claims: ClaimStore, instances: Callable[..., Instance]
) -> None:
    """An upgrade given up (the new instance stopped, the old one stays): the old one serves again."""
    old = instances()
    new = instances("v2")
    claim = claims.add(Claim("through-new", [result("gpu", "gpu-3")]))
    view = new.prepared(claim)
    new.stop()
    assert works(view)
    assert PluginControl.at(old.layout.control_socket).status().prepared == (claim.uid,)
    assert old.kubelet.unprepare(claim).claims[claim.uid].error == ""
    assert not old.layout.cdi_spec(claim.uid).exists() and not works(view)


@pytest.fixture
def two_drivers(short_tmp: Path, claims: ClaimStore) -> Iterator[tuple[NodeDriver, NodeDriver]]:
    """Two drivers of the node on one layout, in this process (no kubelet sockets, no periodic sync)."""
    layout = layout_of(short_tmp)
    first = NodeDriver(NodeInventory(small_farm(), NODE), claims, layout)
    second = NodeDriver(NodeInventory(small_farm(), NODE), claims, layout)
    first.start()
    second.start()
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def test_a_device_held_by_a_claim_the_other_instance_unprepared_is_given_to_the_next_claim(
    claims: ClaimStore, two_drivers: tuple[NodeDriver, NodeDriver]
) -> None:
    """Without waiting for the instances' periodic sync: a refused session makes the driver look again."""
    first, second = two_drivers
    gone, next_one = (claims.add(Claim(n, [result("gpu", "gpu-0")])) for n in ("gone", "next"))
    assert first.prepare([ClaimRef(gone.namespace, gone.uid, gone.name)])[gone.uid].error == ""
    assert second.unprepare([ClaimRef(gone.namespace, gone.uid, gone.name)])[gone.uid] == ""
    assert first.runner.get("gpu-0").session_ids == [f"{gone.uid}-gpu-0"], "the session closed by itself"
    outcome = first.prepare([ClaimRef(next_one.namespace, next_one.uid, next_one.name)])[next_one.uid]
    assert outcome.error == "" and first.runner.get("gpu-0").session_ids == [f"{next_one.uid}-gpu-0"]


def test_a_checkpoint_file_written_by_another_instance_is_read_when_the_kubelet_asks(
    claims: ClaimStore, two_drivers: tuple[NodeDriver, NodeDriver]
) -> None:
    first, second = two_drivers
    claim = claims.add(Claim("once", [result("gpu", "gpu-1")]))
    ref = ClaimRef(claim.namespace, claim.uid, claim.name)
    prepared = first.prepare([ref])[claim.uid]
    claims.delete(claim)  # the second instance answers from the checkpoint, never asks the API server
    assert second.prepare([ref])[claim.uid] == prepared
    document = json.loads(first.layout.cdi_spec(claim.uid).read_text())
    assert [d["name"] for d in document["devices"]] == [f"{claim.uid}-gpu-1"]


def test_sockets_taken_by_an_instance_that_came_and_went_unseen_are_taken_back(
    claims: ClaimStore, instances: Callable[..., Instance]
) -> None:
    """No instance lock seen alive at all: the whole-device sockets every start binds give it away."""
    stays = instances()
    claim = claims.add(Claim("kept", [result("gpu", "gpu-1")]))
    view = stays.prepared(claim)
    passer = NodeDriver(NodeInventory(small_farm(), NODE), claims, stays.layout)
    passer.start()
    assert stays.driver.device_sockets_taken() and not set(session_sockets(view)) & set(stays.driver.sockets_held())
    passer.stop()
    wait_for(
        lambda: (
            set(session_sockets(view)) <= set(stays.driver.sockets_held()) and not stays.driver.device_sockets_taken()
        ),
        30,
        "the instance that stays to bind its sockets again",
        lambda: str(stays.driver.sockets_held()),
    )
    assert works(view)
