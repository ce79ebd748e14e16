"""F3: broker loss with re-drive; F4: store restart on the same files."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.faults.harness import FaultRun, leads_csv

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

LEADS = 200


@pytest.mark.faults_long
async def test_broker_lost_and_redriven(fault_run: Callable[..., Awaitable[FaultRun]]) -> None:
    """Tansu is killed and started empty on its port mid-batch; the operator asks the
    scheduler for a re-drive (POST /internal/v1/redrive, as after any broker loss):
    every lead ingest holds open is dispatched again and the batch finishes."""
    run = await fault_run()
    batch_id = await run.import_batch(leads_csv(LEADS), "broker-loss")
    await run.wait_batch(batch_id, lambda b: b["processed"] >= LEADS // 4, 120, "progress")
    await asyncio.to_thread(run.peers.lose_broker)
    await run.tap.restart()
    await asyncio.sleep(10)  # the services reconnect and recreate their topics
    async with httpx.AsyncClient(base_url=run.stack.url("scheduler")) as scheduler:
        token = {"X-LC-Internal-Token": run.stack.env["LC_INTERNAL_TOKEN"]}
        response = await scheduler.post("/internal/v1/redrive", headers=token)
        assert response.status_code == 202, response.text
    await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 400, "the batch to finish")
    report = await run.judge({batch_id: "finished"}, strict_attempts=False, broker_lost=True)
    print(report.figures)
    report.assert_held()


@pytest.mark.faults_long
async def test_store_restarted(fault_run: Callable[..., Awaitable[FaultRun]]) -> None:
    """nx-27017 is stopped for 5 s mid-batch and started on the same data dir and port."""
    run = await fault_run()
    batch_id = await run.import_batch(leads_csv(LEADS), "store-restart")
    await run.wait_batch(batch_id, lambda b: b["processed"] >= LEADS // 4, 120, "progress")
    await run.peers.restart_store(5)
    await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 400, "the batch to finish")
    report = await run.judge({batch_id: "finished"})
    print(report.figures)
    report.assert_held()
