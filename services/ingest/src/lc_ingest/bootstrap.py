"""The one place where ingest's real adapters are built and wired together (`build`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from lc_common.clock import Clock, SystemClock
from lc_common.consumer import ConsumerSpec, start_consumers
from lc_common.events import (
    BATCH_EVENTS,
    BILLING_EVENTS,
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    LEADS_DISPATCHED,
)
from lc_common.kafka import Publisher, ensure_topics
from lc_common.outbox import OutboxRelay
from lc_common.service import Workers
from lc_common.store import Document, connect_mongo, database, ping
from lc_ingest.adapters.store import MongoIngestStore
from lc_ingest.config import IngestSettings
from lc_ingest.handlers import CreditHandler, TestingProjector, VerdictProjector
from lc_ingest.importer import Importer, resume_imports
from lc_ingest.lifecycle import BatchLifecycle
from lc_ingest.ports import IngestStore
from lc_ingest.reconcile import CounterReconciler


@dataclass
class IngestRuntime:
    """Everything the HTTP routes and workers of ingest use."""

    settings: IngestSettings
    store: IngestStore
    lifecycle: BatchLifecycle
    importer: Importer
    clock: Clock
    workers: Workers
    client: AsyncMongoClient[Document]

    def start_import(self, batch_id: str, path: Path) -> None:
        """Import a received file in the background, as a worker: an import that cannot
        reach the store or broker brings the process down, to be resumed on restart."""
        self.workers.start(f"import:{batch_id}", self.importer.run(batch_id, path))

    async def ready(self) -> None:
        """Raise unless the store answers."""
        await ping(self.client)


def consumer_specs(store: IngestStore, lifecycle: BatchLifecycle) -> list[ConsumerSpec[Any]]:
    """Ingest's consumers: leads being tested, verdicts into lead rows and counters; credit
    pauses and resumes."""
    return [
        ConsumerSpec(LEADS_DISPATCHED, "ingest", TestingProjector(store).handle),
        ConsumerSpec(LEAD_VERDICTS, "ingest", VerdictProjector(store, lifecycle).handle),
        ConsumerSpec(BILLING_EVENTS, "ingest", CreditHandler(store, lifecycle).handle),
    ]


@asynccontextmanager
async def build(
    settings: IngestSettings, workers: Workers, clock: Clock | None = None
) -> AsyncIterator[IngestRuntime]:
    """Connect to the store and broker, start the consumers and loops, resume the imports a
    previous process left half done; tear all down on exit."""
    clock = clock or SystemClock()
    client = connect_mongo(settings)
    store = MongoIngestStore(database(client, settings))
    await store.ensure_indexes()
    await ensure_topics(
        settings, [LEADS_ACCEPTED, LEADS_DISPATCHED, LEAD_VERDICTS, BATCH_EVENTS, BILLING_EVENTS]
    )
    publisher = Publisher(settings)
    await publisher.start()
    relay = OutboxRelay(
        store.batches, publisher, BATCH_EVENTS, scan_interval=settings.outbox_scan_seconds
    )
    lifecycle = BatchLifecycle(store, clock, relay.wake)
    importer = Importer(store, publisher, lifecycle, clock, settings.import_chunk_rows)
    rt = IngestRuntime(settings, store, lifecycle, importer, clock, workers, client)
    reconciler = CounterReconciler(store, lifecycle, settings.reconcile_interval_seconds)
    workers.start("outbox", relay.run())
    start_consumers(workers, settings, consumer_specs(store, lifecycle), publisher)
    workers.start("reconcile", reconciler.run())
    await resume_imports(store, lifecycle, rt.start_import)
    try:
        yield rt
    finally:
        await workers.stop()
        await publisher.stop()
        await client.close()
