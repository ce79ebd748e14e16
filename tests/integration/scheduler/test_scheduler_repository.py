"""The Mongo adapter against the real store: idempotent inserts, saves by id, reload."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lc_common.store import connect_mongo, database
from lc_scheduler.adapters.repository import Repository
from lc_scheduler.domain import entries as t
from lc_scheduler.domain.batches import BatchRecord
from lc_scheduler.domain.entries import Entry

pytestmark = [pytest.mark.mongo]

NOW = datetime(2025, 3, 12, 3, 0, tzinfo=UTC)


def entry(i: int, batch: str = "bat_m") -> Entry:
    return Entry(
        lead_id=f"{batch}:{i:09d}",
        account_id="acc",
        batch_id=batch,
        e164=f"+614{i:08d}",
        state="queued",
        attempt=1,
        due_at=NOW,
        zones=("Australia/Sydney",),
        country="AU",
    )


async def test_entries_and_batches_round_trip(scheduler_settings: Any) -> None:
    settings = scheduler_settings()
    client = connect_mongo(settings)
    try:
        repo = Repository(database(client, settings))
        await repo.ensure_indexes()
        first = [entry(i) for i in range(5)]
        assert await repo.insert_new(first) == {e.lead_id for e in first}
        # Inserting again (a redelivery) inserts only what is new.
        again = [*first[:3], entry(7)]
        assert await repo.insert_new(again) == {entry(7).lead_id}
        out = t.dispatched(first[0], probe_id="p1", trunk="beta", at=NOW)
        final = t.after_verdict(
            t.dispatched(first[1], probe_id="p2", trunk="beta", at=NOW),
            attempt=1,
            final=True,
            now=NOW,
            next_attempt_at=None,
        )
        assert final is not None
        await repo.save([out, final])
        loaded = {e.lead_id: e for e in await repo.open_entries()}
        assert len(loaded) == 5 and first[1].lead_id not in loaded
        assert loaded[out.lead_id] == out
        stored = await repo.entries([first[1].lead_id, "nope"])
        assert stored == {final.lead_id: final}
        record = BatchRecord("bat_m", "acc", created_at=NOW, paused=True, paused_at=NOW)
        await repo.save_batches([record])
        assert await repo.batches() == [record]
        await repo.delete_batch_entries("bat_m", [first[0].lead_id])
        assert await repo.open_entries() == []
    finally:
        await client.close()
