"""F1: kill -9 of each service in turn mid-batch, restarted after a short pause."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.faults.faults import kill_and_restart
from tests.faults.harness import FaultRun, leads_csv

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

LEADS = 200


async def _kill_mid_batch(start: Callable[..., Awaitable[FaultRun]], service: str) -> None:
    run = await start()
    batch_id = await run.import_batch(leads_csv(LEADS), f"kill-{service}")
    if service == "ingest":
        # mid-import: as soon as the batch exists (F8 has the large-file version).
        pass
    else:
        await run.wait_batch(batch_id, lambda b: b["processed"] >= LEADS // 5, 120, "progress")
    await kill_and_restart(run.stack, service)
    await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 240, "the batch to finish")
    report = await run.judge({batch_id: "finished"}, strict_attempts=service != "prober")
    print(report.figures)
    report.assert_held()


@pytest.mark.faults
@pytest.mark.parametrize("service", ["prober", "scheduler", "billing"])
async def test_kill_9_mid_batch(
    fault_run: Callable[..., Awaitable[FaultRun]], service: str
) -> None:
    await _kill_mid_batch(fault_run, service)


@pytest.mark.faults_long
@pytest.mark.parametrize("service", ["gateway", "ingest", "classifier", "notifier"])
async def test_kill_9_mid_batch_long(
    fault_run: Callable[..., Awaitable[FaultRun]], service: str
) -> None:
    await _kill_mid_batch(fault_run, service)
