"""F7: slow or silent peers: a hanging SMTP server, a frozen ingest, a silent carrier."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from tests.faults.faults import carrier_command, hang_smtp, stop_for
from tests.faults.harness import FaultRun, leads_csv

pytestmark = [pytest.mark.e2e]

LEADS = 200


@pytest.mark.faults_long
@pytest.mark.timeout(600)
async def test_smtp_hangs_while_the_batch_finishes(
    fault_run: Callable[..., Awaitable[FaultRun]],
) -> None:
    run = await fault_run(extra_env={"LC_SMTP_TIMEOUT_SECONDS": "5"})
    batch_id = await run.import_batch(leads_csv(LEADS), "smtp-hang")
    await run.wait_batch(batch_id, lambda b: b["processed"] >= LEADS // 2, 120, "progress")
    hanging = asyncio.create_task(hang_smtp(run.stack, 60))
    await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 240, "the batch to finish")
    await hanging
    # The notifier retries failed sends from its daily loop (every 2 s here).
    report = await run.judge({batch_id: "finished"}, settle=30)
    print(report.figures)
    report.assert_held()


@pytest.mark.faults_long
@pytest.mark.timeout(600)
async def test_ingest_frozen_for_20_seconds(fault_run: Callable[..., Awaitable[FaultRun]]) -> None:
    run = await fault_run()
    batch_id = await run.import_batch(leads_csv(LEADS), "ingest-slow")
    await run.wait_batch(batch_id, lambda b: b["processed"] >= LEADS // 5, 120, "progress")
    await stop_for(run.stack, "ingest", 20)
    await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 300, "the batch to finish")
    report = await run.judge({batch_id: "finished"})
    print(report.figures)
    report.assert_held()


@pytest.mark.faults_long
@pytest.mark.timeout(1800)
async def test_carrier_silent_for_12_minutes(fault_run: Callable[..., Awaitable[FaultRun]]) -> None:
    """Every INVITE is dropped for 12 minutes (9 probe timeouts of 75 s); when the carrier
    answers again, each lead rings at most once per attempt recorded (I2: expires_at)."""
    run = await fault_run()
    batch_id = await run.import_batch(leads_csv(LEADS), "carrier-silent")
    await run.wait_batch(batch_id, lambda b: b["processed"] >= 10, 120, "progress")
    await carrier_command(run.stack, "silent on")
    await asyncio.sleep(12 * 60)
    await carrier_command(run.stack, "silent off")
    await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 600, "the batch to finish")
    report = await run.judge({batch_id: "finished"})
    print(report.figures)
    report.assert_held()
