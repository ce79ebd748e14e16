"""Fault runs: one `FaultRun` per test, and `faults_long` kept out of the default run."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.faults.harness import FaultRun


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long faults run only when asked for by marker (`make faults`: -m "faults or faults_long")."""
    if "faults_long" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="long fault: run with make faults")
    for item in items:
        if item.get_closest_marker("faults_long"):
            item.add_marker(skip)


@pytest.fixture
async def fault_run(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[FaultRun]]]:
    """Start a fault run (options as `FaultRun.start`); everything it started stops after."""
    started: list[FaultRun] = []

    async def start(**options: Any) -> FaultRun:
        run = await FaultRun.start(tmp_path, **options)
        started.append(run)
        return run

    yield start
    for run in started:
        await run.close()
