"""The fuzz tests' fixed budgets: deterministic (derandomized, no example database), bounded, no deadline.

Every test states its example count here, so the suite's cost and coverage are read in one place.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def budget(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
        print_blob=False,
    )


SPEC_DOCUMENTS = 400
SPEC_TEXTS = 200
OPAQUE_CONFIGS = 300
QUANTITIES = 300
EMULATOR_LINES = 150
CAMERA_LINES = 60
GRPC_PREPARES = 60
PROFILE_OR_SCENARIO_DOCUMENTS = 400
"""Per reader: driver profiles, scenario files."""
PROFILE_OR_SCENARIO_TEXTS = 200
