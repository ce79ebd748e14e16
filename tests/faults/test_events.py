"""F5: every topic replayed mid-batch and after the end; F6: poison on every input topic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.faults.faults import poison, replay
from tests.faults.harness import TRUNK_TOPIC, FaultRun, leads_csv

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

LEADS = 200
TOPICS = [
    "leads.accepted",
    "leads.dispatched",
    TRUNK_TOPIC,
    "probe.signalling",
    "lead.verdicts",
    "probe.retries",
    "batch.events",
    "billing.events",
]


@pytest.mark.faults
async def test_replayed_events_are_harmless(fault_run: Callable[..., Awaitable[FaultRun]]) -> None:
    run = await fault_run()
    batch_id = await run.import_batch(leads_csv(LEADS), "replay")
    await run.wait_batch(batch_id, lambda b: b["processed"] >= LEADS // 3, 120, "progress")
    await replay(run.peers.bootstrap, TOPICS)
    await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 240, "the batch to finish")
    await replay(run.peers.bootstrap, TOPICS)
    report = await run.judge({batch_id: "finished"}, settle=20)
    print(report.figures)
    report.assert_held()


@pytest.mark.faults
async def test_poison_on_every_topic_is_parked(
    fault_run: Callable[..., Awaitable[FaultRun]],
) -> None:
    run = await fault_run()
    batch_id = await run.import_batch(leads_csv(LEADS), "poison")
    await run.wait_batch(batch_id, lambda b: b["processed"] >= 10, 120, "progress")
    await poison(run.peers.bootstrap, TOPICS)
    await run.wait_batch(batch_id, lambda b: b["status"] == "finished", 240, "the batch to finish")
    # Each topic's consumers park both bad messages; a topic with several consuming
    # services (lead.verdicts) parks them once per service, so at least 2.
    report = await run.judge({batch_id: "finished"}, dead_letters={topic: 2 for topic in TOPICS})
    print(report.figures)
    report.assert_held()
