"""The one place where ingest's real adapters are built and wired together (`build`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from lc_common.clock import Clock, SystemClock
from lc_common.consumer import ConsumerSpec
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
from lc_common.store import Document, connect_mongo, database
from lc_ingest.adapters.store import MongoIngestStore
from lc_ingest.config import IngestSettings
from lc_ingest.handlers import CreditHandler, TestingProjector, VerdictProjector
from lc_ingest.importer import Importer, resume_imports
from lc_ingest.lifecycle import BatchLifecycle
from lc_ingest.ports import IngestStore
from lc_ingest.reconcile import CounterReconciler


@dataclass
class IngestRuntime:
    """Everything the HTTP routes and workers of ingest use (an
    `lc_common.consuming_app.ConsumingRuntime`)."""

    settings: IngestSettings
    store: IngestStore
    lifecycle: BatchLifecycle
    importer: Importer
    clock: Clock
    mongo: AsyncMongoClient[Document]
    publisher: Publisher
    consumers: list[ConsumerSpec[Any]]
    relay: OutboxRelay
    reconciler: CounterReconciler
    workers: Workers = field(default_factory=Workers)

    def start_workers(self, workers: Workers) -> None:
        """Once the consumers run: the outbox relay, the reconciler, and the imports a
        previous process left half done."""
        self.workers = workers
        workers.start("outbox", self.relay.run())
        workers.start("reconcile", self.reconciler.run())
        workers.start(
            "resume-imports", resume_imports(self.store, self.lifecycle, self.start_import)
        )

    def start_import(self, batch_id: str, path: Path) -> None:
        """Import a received file in the background, as a worker: an import that cannot
        reach the store or broker brings the process down, to be resumed on restart."""
        self.workers.start(f"import:{batch_id}", self.importer.run(batch_id, path))

    async def close(self) -> None:
        """Stop the publisher and close the store client (after the workers stopped)."""
        await self.publisher.stop()
        await self.mongo.close()


def consumer_specs(store: IngestStore, lifecycle: BatchLifecycle) -> list[ConsumerSpec[Any]]:
    """Ingest's consumers: leads being tested, verdicts into lead rows and counters; credit
    pauses and resumes."""
    return [
        ConsumerSpec.of("ingest", LEADS_DISPATCHED, TestingProjector(store).handle),
        ConsumerSpec.of("ingest", LEAD_VERDICTS, VerdictProjector(store, lifecycle).handle),
        ConsumerSpec.of("ingest", BILLING_EVENTS, CreditHandler(store, lifecycle).handle),
    ]


async def build(settings: IngestSettings, clock: Clock | None = None) -> IngestRuntime:
    """Connect to the store and broker and wire ingest; nothing runs until the app's
    lifespan starts the consumers and `start_workers`."""
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
    return IngestRuntime(
        settings=settings,
        store=store,
        lifecycle=lifecycle,
        importer=Importer(store, publisher, lifecycle, clock, settings.import_chunk_rows),
        clock=clock,
        mongo=client,
        publisher=publisher,
        consumers=consumer_specs(store, lifecycle),
        relay=relay,
        reconciler=CounterReconciler(store, lifecycle, settings.reconcile_interval_seconds),
    )
