"""Nothing leaks: claims made from templates go with their pod, their CDI specs too."""

from __future__ import annotations

import pytest

from harness import builders as b
from harness.dratest import DraTest

pytestmark = pytest.mark.area("leaks")


def test_template_claim_and_its_cdi_spec_go_with_the_pod(dra: DraTest) -> None:
    dra.template("dev", b.request("dev", dra.device_class()))
    dra.pod("user", dra.proof_script(then="echo drafarm-holding; sleep 600"), templates={"dev": "dev"})
    dra.wait.until(
        "pod user to show its device", lambda: "drafarm-holding" in dra.kube.logs("user", dra.ns), 120, pod="user"
    )
    claim = dra.pod_claim_name("user", "dev")
    uid = (dra.get("ResourceClaim", claim) or {})["metadata"]["uid"]
    assert dra.cdi_specs_for(uid), f"no CDI spec names claim {uid} while its pod runs"
    dra.kube.delete("Pod", "user", dra.ns, grace=0)
    dra.wait.gone("ResourceClaim", claim, 60)
    dra.wait.until(f"CDI specs of claim {uid} to be removed", lambda: not dra.cdi_specs_for(uid), 60)
