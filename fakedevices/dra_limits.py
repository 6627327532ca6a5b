"""Limits the resource.k8s.io/v1 API enforces (shared/reference/dra-facts.md, section 4)."""

MAX_DEVICES_PER_SLICE = 128
MAX_DEVICES_PER_SLICE_WITH_COUNTERS = 64
MAX_ATTRIBUTES_AND_CAPACITIES_PER_DEVICE = 32
MAX_STRING_ATTRIBUTE_LENGTH = 64
MAX_COUNTER_SETS_PER_SLICE = 8
MAX_COUNTERS_PER_COUNTER_SET = 32
MAX_COUNTERS_PER_DEVICE = 32
MAX_DNS_LABEL_LENGTH = 63
MAX_DNS_SUBDOMAIN_LENGTH = 253
MAX_OPAQUE_PARAMETERS_BYTES = 10 * 1024
SHARED_PCIE_ROOT_ATTRIBUTE = "resource.kubernetes.io/pcieRoot"
FIRST_MINOR_WITH_SEPARATE_COUNTERS = 35
"""From Kubernetes 1.35 a ResourceSlice holds devices or sharedCounters, not both."""


def counters_separate(minor: int | None) -> bool:
    """Whether counter sets go into slices of their own on this minor (unknown: the newer rule)."""
    return minor is None or minor >= FIRST_MINOR_WITH_SEPARATE_COUNTERS
