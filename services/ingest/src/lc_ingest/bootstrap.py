"""The one place where ingest's real adapters are built and wired together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
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
from lc_common.service import Workers
from lc_common.store import Document, connect_mongo, database, ping
from lc_ingest.adapters.store import IngestStore
from lc_ingest.batches import ACTIVE_STATUSES, PAUSED_STATUSES
from lc_ingest.batches_service import BatchLifecycle
from lc_ingest.config import IngestSettings
from lc_ingest.handlers import CreditHandler, TestingProjector, VerdictProjector
from lc_ingest.importer import Importer

log = structlog.get_logger(__name__)


@dataclass
class IngestRuntime:
    """Everything the HTTP handlers and workers of ingest use."""

    settings: IngestSettings
    store: IngestStore
    publisher: Publisher
    lifecycle: BatchLifecycle
    importer: Importer
    clock: Clock
    workers: Workers
    client: AsyncMongoClient[Document]
    imports: set[asyncio.Task[None]] = field(default_factory=set)

    def start_import(self, batch_id: str, path: Path) -> None:
        """Import a received file in the background."""
        task = asyncio.create_task(self.importer.run(batch_id, path), name=f"import:{batch_id}")
        self.imports.add(task)
        task.add_done_callback(self.imports.discard)

    async def resume_imports(self) -> None:
        """Restart imports that a previous process left half done."""
        for batch in await self.store.batches_with_status(["importing"]):
            path = Path(batch.get("upload_path", ""))
            if path.is_file():
                log.info("import_resumed", batch_id=batch["_id"])
                self.start_import(batch["_id"], path)
            else:
                await self.lifecycle.fail(
                    batch, "The upload was lost during a restart; upload again."
                )

    async def reconcile_forever(self) -> None:
        """Recount open batches now and then: counters converge even after a crash mid-update."""
        while True:
            await asyncio.sleep(self.settings.reconcile_interval_seconds)
            for batch in await self.store.batches_with_status([*ACTIVE_STATUSES, *PAUSED_STATUSES]):
                await self.lifecycle.finish_if_done(batch["_id"])

    async def ready(self) -> None:
        """Raise unless the store answers."""
        await ping(self.client)


def consumer_specs(store: IngestStore, lifecycle: BatchLifecycle) -> list[ConsumerSpec[Any]]:
    """Ingest's consumers: leads being tested, verdicts into lead rows and counters; credit
    pauses and resumes."""
    return [
        ConsumerSpec(LEADS_DISPATCHED, "ingest", TestingProjector(store).handle),
        ConsumerSpec(LEAD_VERDICTS, "ingest", VerdictProjector(store, lifecycle).handle),
        ConsumerSpec(BILLING_EVENTS, "ingest", CreditHandler(lifecycle).handle),
    ]


@asynccontextmanager
async def build_runtime(
    settings: IngestSettings, workers: Workers, clock: Clock | None = None
) -> AsyncIterator[IngestRuntime]:
    """Connect to the store and broker, start the consumers and loops; tear all down on exit."""
    clock = clock or SystemClock()
    client = connect_mongo(settings)
    store = IngestStore(database(client, settings))
    await store.ensure_indexes()
    await ensure_topics(
        settings, [LEADS_ACCEPTED, LEADS_DISPATCHED, LEAD_VERDICTS, BATCH_EVENTS, BILLING_EVENTS]
    )
    publisher = Publisher(settings)
    await publisher.start()
    lifecycle = BatchLifecycle(store, publisher, clock)
    rt = IngestRuntime(
        settings=settings,
        store=store,
        publisher=publisher,
        lifecycle=lifecycle,
        importer=Importer(store, publisher, lifecycle, clock, settings.import_chunk_rows),
        clock=clock,
        workers=workers,
        client=client,
    )
    start_consumers(workers, settings, consumer_specs(store, lifecycle), publisher)
    workers.start("reconcile", rt.reconcile_forever())
    await rt.resume_imports()
    try:
        yield rt
    finally:
        await workers.stop()
        for task in list(rt.imports):
            task.cancel()
        await asyncio.gather(*rt.imports, return_exceptions=True)
        await publisher.stop()
        await client.close()
