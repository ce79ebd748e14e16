"""F2: SIGSTOP past the lease / consumer-session timeout, then SIGCONT, with a standby running."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.faults.faults import stop_for
from tests.faults.harness import FaultRun, leads_csv

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

LEADS = 200


@pytest.mark.faults
async def test_stopped_scheduler_leader_is_fenced(
    fault_run: Callable[..., Awaitable[FaultRun]],
) -> None:
    """The leader is frozen past its lease (6 s): the standby takes over; the old leader,
    woken, must not dispatch or write (I8)."""
    run = await fault_run(replicas={"scheduler-b": "scheduler"})
    batch_id = await run.import_batch(leads_csv(LEADS), "stop-scheduler")
    await run.wait_batch(batch_id, lambda b: b["processed"] >= LEADS // 5, 120, "progress")
    await stop_for(run.stack, "scheduler", 20)
    await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 240, "the batch to finish")
    report = await run.judge({batch_id: "finished"})
    print(report.figures)
    report.assert_held()


@pytest.mark.faults_long
async def test_stopped_prober_loses_its_lanes(
    fault_run: Callable[..., Awaitable[FaultRun]],
) -> None:
    """One of two probers is frozen past its consumer session: the other takes its lanes;
    woken, the frozen one must not dial what it had fetched (I2)."""
    run = await fault_run(replicas={"prober-b": "prober"})
    batch_id = await run.import_batch(leads_csv(LEADS), "stop-prober")
    await run.wait_batch(batch_id, lambda b: b["processed"] >= LEADS // 5, 120, "progress")
    await stop_for(run.stack, "prober", 45)
    await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 300, "the batch to finish")
    report = await run.judge({batch_id: "finished"}, strict_attempts=False)
    print(report.figures)
    report.assert_held()
