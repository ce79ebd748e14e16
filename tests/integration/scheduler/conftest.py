"""Fixtures of the scheduler's integration tests."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lc_scheduler.config import SchedulerSettings

# The tests import their helpers (`scheduler_helpers`) from this folder.
sys.path.insert(0, str(Path(__file__).parent))

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
def scheduler_settings(
    service_env: dict[str, str], trunks_file: Path
) -> Callable[..., SchedulerSettings]:
    """Settings for an in-process scheduler on this test's topics and database."""

    def make(**overrides: Any) -> SchedulerSettings:
        values: dict[str, Any] = {
            "trunks_file": trunks_file,
            "dispatch_interval_seconds": 0.2,
            "sweep_interval_seconds": 0.5,
            "redrive_on_startup": False,
            "http_port": 0,
        }
        values.update(overrides)
        return SchedulerSettings(**values)

    return make
