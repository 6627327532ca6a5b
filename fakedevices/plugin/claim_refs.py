"""The kubelet's claim references checked before they are used (API paths, file names, messages)."""

from __future__ import annotations

import re

from fakedevices.dra_limits import MAX_DNS_LABEL_LENGTH, MAX_DNS_SUBDOMAIN_LENGTH
from fakedevices.plugin.api import ClaimRef
from fakedevices.spec.reader import DNS_LABEL, DNS_SUBDOMAIN

MAX_UID_LENGTH = 128
_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def claim_ref_problem(ref: ClaimRef) -> str | None:
    """Why the kubelet's reference cannot name a claim, or None (a per-claim error, never a crash)."""
    if not ref.uid or len(ref.uid) > MAX_UID_LENGTH or not _UID.fullmatch(ref.uid):
        return (
            f"claim {_shown(ref.namespace)}/{_shown(ref.name)}: UID {_shown(ref.uid)} is not a claim UID "
            f"(1..{MAX_UID_LENGTH} of A-Za-z0-9._-, as the API server assigns)"
        )
    if len(ref.namespace) > MAX_DNS_LABEL_LENGTH or not DNS_LABEL.match(ref.namespace):
        return f"claim UID {ref.uid}: namespace {_shown(ref.namespace)} is not a namespace name (a DNS label)"
    if len(ref.name) > MAX_DNS_SUBDOMAIN_LENGTH or not DNS_SUBDOMAIN.match(ref.name):
        return f"claim UID {ref.uid}: name {_shown(ref.name)} is not a ResourceClaim name (a DNS subdomain)"
    return None
