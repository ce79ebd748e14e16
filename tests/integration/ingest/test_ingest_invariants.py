"""Ingest's invariants on the real store and broker (docs/invariants.md I1, I5, I6, I7):
a resumed import counts from what was stored, a verdict applies only if newer, a
transient error never fails a batch, a status change and its event are written together.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from tests.integration.ingest.support import create_importing_batch
from tests.support import until

from lc_common.clock import ManualClock
from lc_common.events import (
    BATCH_EVENTS,
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    DispatchedLead,
    Evidence,
    LeadsDispatchedV1,
    LeadVerdictV1,
)
from lc_common.kafka import Publisher, ensure_topics
from lc_common.outbox import OutboxRelay
from lc_common.store import connect_mongo, database
from lc_ingest.adapters.store import MongoIngestStore
from lc_ingest.config import IngestSettings
from lc_ingest.domain.batch import Batch
from lc_ingest.domain.lead import lead_id
from lc_ingest.handlers import TestingProjector as Dispatched
from lc_ingest.handlers import VerdictProjector
from lc_ingest.importer import Importer
from lc_ingest.lifecycle import BatchLifecycle

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


@dataclass
class Peers:
    settings: IngestSettings
    store: MongoIngestStore
    publisher: Publisher
    lifecycle: BatchLifecycle
    clock: ManualClock


@pytest.fixture
async def peers(service_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Peers]:
    settings = IngestSettings(upload_dir=tmp_path)
    client = connect_mongo(settings)
    await ensure_topics(settings, [LEADS_ACCEPTED, LEAD_VERDICTS, BATCH_EVENTS])
    publisher = Publisher(settings)
    await publisher.start()
    store = MongoIngestStore(database(client, settings))
    await store.ensure_indexes()
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    try:
        # No relay: events stay in the outbox, as if the process died after the write.
        yield Peers(settings, store, publisher, BatchLifecycle(store, clock), clock)
    finally:
        await publisher.stop()
        await client.close()


async def new_batch(peers: Peers, csv: Path) -> str:
    return await create_importing_batch(peers.store, csv, peers.clock.now())


def verdict(
    batch_id: str, row: int, attempt: int, final: bool, status: str = "indeterminate"
) -> LeadVerdictV1:
    return LeadVerdictV1(
        account_id="acc_1",
        batch_id=batch_id,
        lead_id=lead_id(batch_id, row),
        probe_id=f"p{row}-{attempt}",
        attempt=attempt,
        status=status,  # type: ignore[arg-type]
        final=final,
        detail="SIP 480",
        confidence=50,
        evidence=Evidence(trunk="t", codes=[480], tested_at=datetime.now(UTC)),
        chargeable=final,
    )


def check_counters(batch: Batch | None) -> None:
    assert batch is not None
    counts = batch.counters
    assert counts.accepted == counts.processed + counts.remaining, counts
    assert counts.imported == counts.accepted + counts.rejected, counts
    assert min(counts.remaining, counts.accepted, counts.retry, counts.processed) >= 0, counts


async def test_a_resumed_import_counts_from_what_was_stored(peers: Peers, tmp_path: Path) -> None:
    csv = tmp_path / "leads.csv"
    rows = [f"+614123{n:05d}" if n % 3 else "not a number" for n in range(1, 3001)]
    csv.write_text("phone\n" + "\n".join(rows) + "\n")
    batch_id = await new_batch(peers, csv)
    importer = Importer(peers.store, peers.publisher, peers.lifecycle, peers.clock, 50)
    first = asyncio.create_task(importer.run(batch_id, csv))

    async def some_rows_stored() -> bool:
        batch = await peers.store.get_batch(batch_id)
        return batch is not None and batch.counters.imported >= 600

    await until(some_rows_stored, 60, "part of the import")
    first.cancel()  # the process died mid-import; the store keeps what it had
    await asyncio.gather(first, return_exceptions=True)
    projector = VerdictProjector(peers.store, peers.lifecycle)
    for row in (1, 2, 4, 5, 7):  # accepted rows among the first ones
        await projector.handle(verdict(batch_id, row, 1, True, "connected"))
    check_counters(await peers.store.get_batch(batch_id))

    resumed = asyncio.create_task(importer.run(batch_id, csv))
    seen_imported = 0
    while not resumed.done():
        batch = await peers.store.get_batch(batch_id)
        assert batch is not None
        check_counters(batch)
        assert batch.counters.imported >= seen_imported  # never rewritten below what was stored
        seen_imported = batch.counters.imported
        await asyncio.sleep(0.005)
    await resumed
    batch = await peers.store.get_batch(batch_id)
    assert batch is not None
    check_counters(batch)
    counts = batch.counters
    assert (counts.imported, counts.accepted, counts.rejected) == (3000, 2000, 1000)
    assert (counts.connected, batch.status) == (5, "queued")


async def test_a_replayed_verdict_never_regresses_a_lead(peers: Peers, tmp_path: Path) -> None:
    csv = tmp_path / "two.csv"
    csv.write_text("phone\n+61412345670\n+61412345671\n")
    batch_id = await new_batch(peers, csv)
    await Importer(peers.store, peers.publisher, peers.lifecycle, peers.clock).run(batch_id, csv)
    projector = VerdictProjector(peers.store, peers.lifecycle)
    testing = Dispatched(peers.store)
    lead = lead_id(batch_id, 1)

    first = verdict(batch_id, 1, 1, False)
    await projector.handle(first)
    await testing.handle(
        LeadsDispatchedV1(
            account_id="acc_1", batch_id=batch_id, leads=[DispatchedLead(lead_id=lead, attempt=2)]
        )
    )
    await projector.handle(first)  # redelivered after the next attempt started
    stored = await peers.store.get_lead(lead)
    assert stored is not None
    assert (stored.state, stored.attempts, len(stored.evidence)) == ("testing", 1, 1)
    batch = await peers.store.get_batch(batch_id)
    assert batch is not None and batch.counters.retry == 0
    check_counters(batch)

    final = verdict(batch_id, 1, 2, True, "disconnected")
    await projector.handle(final)
    await projector.handle(final)
    await projector.handle(first)
    stored = await peers.store.get_lead(lead)
    assert stored is not None
    assert (stored.state, stored.attempts, stored.chargeable) == ("disconnected", 2, True)
    assert [(e["attempt"], e["probe_id"]) for e in stored.evidence] == [
        (1, first.probe_id),
        (2, final.probe_id),
    ]
    batch = await peers.store.get_batch(batch_id)
    assert batch is not None
    assert (batch.counters.disconnected, batch.counters.retry, batch.status) == (1, 0, "running")
    check_counters(batch)


async def test_a_broker_that_stays_down_never_fails_the_import(
    peers: Peers, tmp_path: Path
) -> None:
    csv = tmp_path / "leads.csv"
    csv.write_text("phone\n+61412345670\n+61412345671\n")
    batch_id = await new_batch(peers, csv)
    unreachable = Publisher(peers.settings)
    await unreachable.start()
    await unreachable.stop()  # closed: every publish fails at once
    importer = Importer(
        peers.store, unreachable, peers.lifecycle, peers.clock, attempts=2, max_backoff_seconds=0
    )
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises
        await importer.run(batch_id, csv)
    batch = await peers.store.get_batch(batch_id)
    assert batch is not None and batch.status == "importing"
    assert csv.is_file()  # kept for the resumed import
    # The process restarts (the supervisor) and resumes the import.
    await Importer(peers.store, peers.publisher, peers.lifecycle, peers.clock).run(batch_id, csv)
    batch = await peers.store.get_batch(batch_id)
    assert batch is not None
    assert (batch.status, batch.counters.imported, batch.counters.accepted) == ("queued", 2, 2)
    assert not csv.exists()


async def read_batch_events(settings: IngestSettings, batch_id: str, count: int) -> list[str]:
    consumer = AIOKafkaConsumer(
        settings.topic(BATCH_EVENTS.name),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=f"reader-{uuid.uuid4().hex[:8]}",
    )
    await consumer.start()
    kinds: list[str] = []
    try:
        async with asyncio.timeout(60):
            while len(kinds) < count:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    events = [json.loads(r.value or b"{}") for r in records]
                    kinds += [e["kind"] for e in events if e["batch_id"] == batch_id]
    finally:
        await consumer.stop()
    return kinds


async def test_a_status_change_and_its_event_are_written_together(
    peers: Peers, tmp_path: Path
) -> None:
    csv = tmp_path / "one.csv"
    csv.write_text("phone\n+61412345670\n")
    batch_id = await new_batch(peers, csv)
    await Importer(peers.store, peers.publisher, peers.lifecycle, peers.clock).run(batch_id, csv)
    batch = await peers.store.get_batch(batch_id)
    assert batch is not None
    paused = await peers.lifecycle.set_paused(batch, True)
    again = await peers.lifecycle.set_paused(paused, True)  # a client's retry re-announces
    assert again.status == "paused"
    # The process "died" before relaying: every event waits in the batch's outbox.
    doc = await peers.store.batches.find_one({"_id": batch_id})
    assert doc is not None
    pending = [json.loads(e)["event"]["kind"] for e in doc["outbox"]]
    assert pending == ["queued", "paused", "paused"]

    relay = OutboxRelay(peers.store.batches, peers.publisher, BATCH_EVENTS)
    while await relay.relay_once():
        pass
    assert await read_batch_events(peers.settings, batch_id, 3) == pending
    doc = await peers.store.batches.find_one({"_id": batch_id})
    assert doc is not None and doc["outbox"] == []
