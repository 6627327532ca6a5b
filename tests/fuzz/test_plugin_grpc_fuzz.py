"""Malformed NodePrepareResources / NodeUnprepareResources calls on the plugin's real gRPC socket, from a
client that plays the kubelet: every claim gets its own answer (devices or an error), the call never
fails as a whole, and the plugin keeps serving."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakedevices.proto.stubs import dra_v1_pb2
from tests.fuzz.budget import GRPC_PREPARES, budget
from tests.plugin.conftest import PluginUnderTest
from tests.plugin.kit import Claim, ClaimStore, FakeKubelet, result

MAX_ERROR_CHARS = 2000


class Farmside:
    def __init__(self, plugin: PluginUnderTest, kubelet: FakeKubelet, claims: ClaimStore) -> None:
        self.plugin = plugin
        self.kubelet = kubelet
        self.claims = claims
        self.good = claims.add(Claim("good", [result("gpu", "gpu-0")]))
        other_driver = Claim("other-driver", [result("gpu", "gpu-1")])
        self.other_driver = claims.add(other_driver)
        api = claims.objects[("default", "other-driver")]
        api["status"]["allocation"]["devices"]["results"][0]["driver"] = "gpu.example.com"
        self.other_node = claims.add(Claim("other-node", [result("gpu", "gpu-1", pool="drafarm-worker-9")]))
        self.unallocated = claims.add(Claim("unallocated", [result("gpu", "gpu-2")]))
        claims.objects[("default", "unallocated")]["status"] = {}
        self.known = [self.good, self.other_driver, self.other_node, self.unallocated]


@pytest.fixture(scope="module")
def farmside() -> Iterator[Farmside]:
    root = Path(tempfile.mkdtemp(prefix="dfg-", dir="/tmp"))
    claims = ClaimStore()
    plugin = PluginUnderTest(root, claims)
    plugin.start()
    kubelet = FakeKubelet(plugin.layout.registration_socket)
    kubelet.register()
    try:
        yield Farmside(plugin, kubelet, claims)
    finally:
        kubelet.close()
        plugin.stop()
        shutil.rmtree(root, ignore_errors=True)


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20) | st.sampled_from(
    ["", "default", "kube-system", "../../etc", "a" * 300, "good", "Default", "ns/x", "\x00"]
)


def refs(side: Farmside) -> st.SearchStrategy[list[tuple[str, str, str]]]:
    known = st.sampled_from([(c.namespace, c.uid, c.name) for c in side.known])
    wrong_uid = known.flatmap(lambda k: TEXT.map(lambda uid: (k[0], uid, k[2])))
    wrong_namespace = known.flatmap(lambda k: TEXT.map(lambda ns: (ns, k[1], k[2])))
    random = st.tuples(TEXT, TEXT, TEXT)
    one = known | wrong_uid | wrong_namespace | random
    return st.lists(one, max_size=8).flatmap(lambda items: st.permutations(items + items[:2]))


def _request(items: list[tuple[str, str, str]], pb: Any = dra_v1_pb2) -> Any:
    return [pb.Claim(namespace=ns, uid=uid, name=name) for ns, uid, name in items]


def _check_answers(side: Farmside, items: list[tuple[str, str, str]], answers: Any) -> None:
    uids = {uid for _, uid, _ in items}
    assert set(answers) == uids
    good = (side.good.namespace, side.good.uid, side.good.name)
    for uid, answer in answers.items():
        assert len(answer.error) <= MAX_ERROR_CHARS
        assert "\n" not in answer.error
        if uid == side.good.uid and all(item == good for item in items if item[1] == uid):
            assert not answer.error and [d.device_name for d in answer.devices] == ["gpu-0"], answer
        elif uid != side.good.uid:
            assert answer.error and not answer.devices, (uid, answer)


@budget(GRPC_PREPARES)
@given(st.data())
def test_malformed_prepares(farmside: Farmside, data: st.DataObject) -> None:
    items = data.draw(refs(farmside))
    stub = farmside.kubelet.v1()
    prepared = stub.NodePrepareResources(dra_v1_pb2.NodePrepareResourcesRequest(claims=_request(items)), timeout=30)
    _check_answers(farmside, items, prepared.claims)
    unprepared = stub.NodeUnprepareResources(
        dra_v1_pb2.NodeUnprepareResourcesRequest(claims=_request(items)), timeout=30
    )
    assert set(unprepared.claims) == {uid for _, uid, _ in items}
    # Still serving: the good claim prepares and unprepares.
    assert not farmside.kubelet.prepare(farmside.good).claims[farmside.good.uid].error
    assert not farmside.kubelet.unprepare(farmside.good).claims[farmside.good.uid].error


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("other_driver", "none of its devices is allocated from drafarm.dev on this node"),
        ("other_node", "none of its devices is allocated from drafarm.dev on this node"),
        ("unallocated", "is not allocated"),
    ],
)
def test_claims_this_plugin_cannot_prepare(farmside: Farmside, claim: str, expected: str) -> None:
    target: Claim = getattr(farmside, claim)
    answer = farmside.kubelet.prepare(target).claims[target.uid]
    assert expected in answer.error and not answer.devices


@pytest.mark.parametrize(
    ("namespace", "uid", "name", "expected"),
    [
        ("default", "", "good", "is not a claim UID"),
        ("default", "../../../etc/passwd", "good", "is not a claim UID"),
        ("../..", "4f1c", "good", "is not a namespace name"),
        ("default", "4f1c", "a/b", "is not a ResourceClaim name"),
        ("default", "x" * 100_000, "good", "is not a claim UID"),
    ],
)
def test_claim_references_are_checked(farmside: Farmside, namespace: str, uid: str, name: str, expected: str) -> None:
    stub = farmside.kubelet.v1()
    request = dra_v1_pb2.NodePrepareResourcesRequest(claims=_request([(namespace, uid, name)]))
    answer = stub.NodePrepareResources(request, timeout=30).claims[uid]
    assert expected in answer.error and len(answer.error) < 400
    unprepare = dra_v1_pb2.NodeUnprepareResourcesRequest(claims=_request([(namespace, uid, name)]))
    assert expected in stub.NodeUnprepareResources(unprepare, timeout=30).claims[uid].error


def test_thousands_of_claims_in_one_call(farmside: Farmside) -> None:
    good = (farmside.good.namespace, farmside.good.uid, farmside.good.name)
    items = [("default", f"missing-{i}", f"missing-{i}") for i in range(3000)] + [good] * 1000
    stub = farmside.kubelet.v1()
    started = time.monotonic()
    answers = stub.NodePrepareResources(dra_v1_pb2.NodePrepareResourcesRequest(claims=_request(items)), timeout=45)
    assert time.monotonic() - started < 30
    assert len(answers.claims) == 3001
    assert "does not exist in the API server" in answers.claims["missing-1234"].error
    assert not answers.claims[farmside.good.uid].error
    assert not farmside.kubelet.unprepare(farmside.good).claims[farmside.good.uid].error
