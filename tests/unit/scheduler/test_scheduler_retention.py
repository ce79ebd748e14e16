"""Retention: the clock follows batch events; when it runs out ingest is asked to delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler_fakes import FakeIngest, Harness, batch, lead

from lc_common.clock import ManualClock
from lc_scheduler.domain.batches import BatchRecord, after_batch_event, retention_due

NOON = datetime(2025, 3, 12, 3, 0, tzinfo=UTC)
KEEP = timedelta(days=42)


def test_the_clock_starts_on_finish_fail_or_pause_and_stops_on_resume() -> None:
    record = BatchRecord("b", "a", created_at=NOON)
    later = NOON + timedelta(days=1)
    paused = after_batch_event(record, "paused", NOON)
    assert paused is not None and paused.retention_from == NOON
    resumed = after_batch_event(paused, "resumed", later)
    assert resumed is not None and resumed.retention_from is None and resumed.dispatchable
    # A redelivered older pause neither pauses again nor restarts the clock.
    assert after_batch_event(resumed, "paused", NOON) is None
    finished = after_batch_event(resumed, "finished", later + timedelta(days=1))
    assert finished is not None and finished.retention_from == later + timedelta(days=1)
    failed = after_batch_event(record, "failed", NOON)
    assert failed is not None and failed.retention_from == NOON
    credit = after_batch_event(record, "credit_paused", NOON)
    assert credit is not None and credit.retention_from == NOON
    assert after_batch_event(record, "queued", NOON) is None
    assert not retention_due(finished, finished.retention_from + KEEP - timedelta(seconds=1), KEEP)  # type: ignore[operator]
    assert retention_due(finished, finished.retention_from + KEEP, KEEP)  # type: ignore[operator]
    assert not retention_due(resumed, NOON + timedelta(days=100), KEEP)


async def test_a_batch_past_retention_is_deleted_by_ingest_and_dropped_here() -> None:
    clock = ManualClock(NOON)
    ingest = FakeIngest([])
    h = await Harness(clock, ingest=ingest).start()
    retention = h.scheduler.retention
    await h.accept(*[lead("bat_old", i, f"+6141000000{i}") for i in range(3)])
    await h.accept(lead("bat_new", 1, "+61410000009"))
    await h.batch_event("bat_old", "paused")
    clock.advance(timedelta(days=41))
    await h.batch_event("bat_new", "paused")
    assert await retention.run_once() == []
    clock.advance(timedelta(days=1))
    assert await retention.run_once() == ["bat_old"]
    assert ingest.deletes == [("bat_old", clock.now() - KEEP)]
    assert await h.read(lambda tx: batch(tx, "bat_old").deleted)
    assert not [e for e in h.store.entries_by_id.values() if e.batch_id == "bat_old"]
    assert len(await h.read(lambda tx: tx.open_entries())) == 1
    # Deleted: never asked again; the `deleted` event from ingest changes nothing more.
    assert await retention.run_once() == []
    await h.batch_event("bat_old", "deleted")
    assert len(ingest.deletes) == 1


async def test_ingest_refusing_keeps_the_batch_until_its_resume_arrives() -> None:
    clock = ManualClock(NOON)
    ingest = FakeIngest([])
    h = await Harness(clock, ingest=ingest).start()
    await h.accept(lead("bat_p", 1, "+61410000001"))
    await h.batch_event("bat_p", "paused")
    clock.advance(KEEP)
    ingest.delete_answers["bat_p"] = "not_expired"  # the client unpaused a moment ago
    assert await h.scheduler.retention.run_once() == []
    assert not await h.read(lambda tx: batch(tx, "bat_p").deleted)
    await h.batch_event("bat_p", "resumed")
    assert await h.scheduler.retention.run_once() == []
    assert len(ingest.deletes) == 1
    assert len(await h.round()) == 1
