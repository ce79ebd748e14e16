"""Fixtures of the scheduler's integration tests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from lc_scheduler.config import SchedulerSettings

# The tests import their helpers (`scheduler_helpers`) from this folder.
sys.path.insert(0, str(Path(__file__).parent))

from scheduler_helpers import StandInBilling, stand_in_billing

INTERNAL_TOKEN = "test-internal-token"

TRUNKS_YAML = """
- {name: alpha, host: 127.0.0.1, port: 5070, channels: 2, cps: 10, prefixes: ["+612"]}
- {name: beta, host: 127.0.0.1, port: 5070, channels: 3, cps: 10}
"""


@pytest.fixture
def trunks_file(tmp_path: Path) -> Path:
    path = tmp_path / "trunks.yaml"
    path.write_text(TRUNKS_YAML)
    return path


@pytest.fixture
async def billing() -> AsyncIterator[tuple[str, StandInBilling]]:
    """A billing stand-in (unlimited credit unless a test sets some); (url, stand-in)."""
    async with stand_in_billing(INTERNAL_TOKEN) as served:
        yield served


@pytest.fixture
def scheduler_settings(
    service_env: dict[str, str], trunks_file: Path, billing: tuple[str, StandInBilling]
) -> Callable[..., SchedulerSettings]:
    """Settings for an in-process scheduler on this test's topics and database and the
    billing stand-in."""

    def make(**overrides: Any) -> SchedulerSettings:
        values: dict[str, Any] = {
            "billing_url": billing[0],
            "internal_token": INTERNAL_TOKEN,
            "credit_recheck_seconds": 30,
            "release_interval_seconds": 0.5,
            "trunks_file": trunks_file,
            "dispatch_interval_seconds": 0.2,
            "sweep_interval_seconds": 0.5,
            "redrive_on_startup": False,
            "http_port": 0,
            # Bounds of 2 x channels, which the tests count on.
            "outstanding_factor": 2.0,
            "dispatch_loop_seconds": 0.0,
        }
        values.update(overrides)
        billing[1].token = str(values["internal_token"])  # the stand-in takes this test's token
        return SchedulerSettings(**values)

    return make
