"""F8: an import interrupted by kill -9, and paused mid-import; the no-credit reproduction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from tests.faults.checker import check_no_calls
from tests.faults.faults import carrier_command, kill_and_restart
from tests.faults.harness import FaultRun, leads_csv

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SAMPLE = Path("deploy/local/sample-leads.csv")


@pytest.mark.faults_long
async def test_import_killed_midway_completes_exactly(
    fault_run: Callable[..., Awaitable[FaultRun]],
) -> None:
    """20,000 rejected rows then 200 numbers; ingest is killed -9 right after the upload."""
    run = await fault_run()
    batch_id = await run.import_batch(leads_csv(200, invalid_first=20_000), "import-kill")
    await kill_and_restart(run.stack, "ingest", pause=1)
    batch = await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 400, "finish")
    assert (batch["imported"], batch["accepted"]) == (20_200, 200), batch
    report = await run.judge({batch_id: "finished"})
    print(report.figures)
    report.assert_held()


@pytest.mark.faults
async def test_paused_mid_import_stays_paused(
    fault_run: Callable[..., Awaitable[FaultRun]],
) -> None:
    """20,000 invalid rows then 30 numbers, paused right after the upload: once imported the
    batch is Paused with 30 remaining and nothing dialled; unpaused, it finishes."""
    run = await fault_run()
    batch_id = await run.import_batch(leads_csv(30, invalid_first=20_000), "paused-import")
    await run.set_paused(batch_id, True)
    batch = await run.wait_batch(
        batch_id, lambda b: b["imported"] == 20_030 and b["status"] != "importing", 300, "import"
    )
    assert (batch["status"], batch["remaining"], batch["processed"]) == ("paused", 30, 0), batch
    stats = await carrier_command(run.stack, "stats")
    assert sum(stats["calls"].values()) == 0, stats
    await run.set_paused(batch_id, False)
    await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 240, "the batch to finish")
    report = await run.judge({batch_id: "finished"})
    print(report.figures)
    report.assert_held()


@pytest.mark.faults
async def test_no_credit_dials_nothing_until_a_grant(
    fault_run: Callable[..., Awaitable[FaultRun]],
) -> None:
    """A fresh account with 0 credit imports the 16-row sample and a second batch: no call,
    balance 0, both Paused (no credit); after a grant of 100 both finish, charged exactly."""
    run = await fault_run(credit=0)
    first = await run.import_batch(SAMPLE.read_bytes(), "no-credit-1")
    second = await run.import_batch(leads_csv(20), "no-credit-2")
    for batch_id in (first, second):
        await run.wait_batch(
            batch_id, lambda b: b["status"] == "paused_no_credit", 60, "paused (no credit)"
        )
    stats = await carrier_command(run.stack, "stats")
    assert check_no_calls(stats["calls"], stats["calls"]) == [], stats
    assert run.poller.balances and set(run.poller.balances) == {0}, run.poller.balances
    response = httpx.post(
        f"{run.stack.url('billing')}/internal/v1/grants",
        json={"units": 100, "description": "fault test grant"},
        headers={
            "X-LC-Internal-Token": run.stack.env["LC_INTERNAL_TOKEN"],
            "X-LC-Account-Id": run.account_id,
        },
    )
    response.raise_for_status()
    run.granted = 100
    for batch_id in (first, second):
        await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 240, "finish")
    report = await run.judge({first: "finished", second: "finished"})
    print(report.figures)
    report.assert_held()
