"""The import pipeline on the real store and broker (docs/invariants.md I5, I7): many small
chunks through every stage store each row once, count it exactly and announce each accepted
lead once; a file that turns unreadable part-way keeps exact counters for what was stored."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from tests.integration.ingest.support import create_importing_batch

from lc_common.clock import ManualClock
from lc_common.events import LEADS_ACCEPTED
from lc_common.kafka import Publisher, ensure_topics
from lc_common.store import connect_mongo, database
from lc_ingest.adapters.store import MongoIngestStore
from lc_ingest.config import IngestSettings
from lc_ingest.domain.csv_reader import MAX_COLUMNS
from lc_ingest.importer import Importer
from lc_ingest.lifecycle import BatchLifecycle
from lc_ingest.ports import IngestStore

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]

CLOCK = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
async def importer(service_env: dict[str, str]) -> AsyncIterator[Importer]:
    settings = IngestSettings()
    client = connect_mongo(settings)
    await ensure_topics(settings, [LEADS_ACCEPTED])
    publisher = Publisher(settings)
    await publisher.start()
    store = MongoIngestStore(database(client, settings))
    await store.ensure_indexes()
    try:
        # Chunks of 7 rows, one chunk queued between stages: every stage waits on the next.
        yield Importer(store, publisher, BatchLifecycle(store, CLOCK), CLOCK, 7, queued_chunks=1)
    finally:
        await publisher.stop()
        await client.close()


async def new_batch(store: IngestStore, csv: Path) -> str:
    return await create_importing_batch(store, csv, CLOCK.now())


async def accepted_keys(
    settings: IngestSettings, batch_id: str, at_least: int
) -> list[tuple[str, str]]:
    """(key, lead id) of the batch's `leads.accepted` events on the topic (read until
    `at_least` arrived, then one more poll for any extra)."""
    consumer = AIOKafkaConsumer(
        settings.topic(LEADS_ACCEPTED.name),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=f"reader-{uuid.uuid4().hex[:8]}",
    )
    await consumer.start()
    keys: list[tuple[str, str]] = []
    try:
        while True:
            polled = await consumer.getmany(timeout_ms=1000)
            for records in polled.values():
                for record in records:
                    event = json.loads(record.value or b"{}")
                    if event["batch_id"] == batch_id:
                        keys.append(((record.key or b"").decode(), event["lead_id"]))
            if len(keys) >= at_least and not polled:
                return keys
    finally:
        await consumer.stop()


async def test_many_chunks_store_count_and_announce_each_row_once(
    importer: Importer, tmp_path: Path
) -> None:
    csv = tmp_path / "leads.csv"
    cells = [f"+614123{n:05d}" if n % 5 else "not a number" for n in range(1, 501)]
    cells[100] = cells[99]  # a duplicate
    csv.write_text("phone,name\n" + "\n".join(f"{c},lead {i}" for i, c in enumerate(cells)) + "\n")
    store: IngestStore = importer._store
    batch_id = await new_batch(store, csv)

    await importer.run(batch_id, csv)

    batch = await store.get_batch(batch_id)
    assert batch is not None
    assert (batch.counters.imported, batch.counters.accepted, batch.counters.rejected) == (
        500,
        399,
        101,
    )
    assert (batch.status, batch.import_done) == ("queued", True)
    assert await store.count_states(batch_id) == {"pending": 399, "rejected": 101}
    keys = await accepted_keys(IngestSettings(), batch_id, 399)
    leads = [lead for _, lead in keys]
    assert len(leads) == len(set(leads)) == 399
    assert {key for key, _ in keys} == {batch_id}  # keyed by batch: one partition
    assert not csv.exists()


async def test_a_file_unreadable_part_way_fails_with_exact_counters(
    importer: Importer, tmp_path: Path
) -> None:
    csv = tmp_path / "leads.csv"
    good = [f"+614123{n:05d},x" for n in range(1, 101)]
    too_wide = "+61412399999" + "," * MAX_COLUMNS
    csv.write_text("phone,note\n" + "\n".join(good) + "\n" + too_wide + "\n")
    store: IngestStore = importer._store
    batch_id = await new_batch(store, csv)

    await importer.run(batch_id, csv)

    batch = await store.get_batch(batch_id)
    assert batch is not None
    assert batch.status == "failed" and "Line 102" in (batch.failure_reason or "")
    stored = await store.count_states(batch_id)
    assert (batch.counters.imported, batch.counters.accepted) == (
        sum(stored.values()),
        stored["pending"],
    )
    assert batch.counters.imported == 98  # the whole chunks of 7 read before the bad line
