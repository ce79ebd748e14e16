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
from lc_common.outbox import OutboxRelay
from lc_common.service import Workers
from lc_common.store import Document, connect_mongo, database, ping
from lc_ingest.adapters.store import IngestStore
from lc_ingest.batches import ACTIVE_STATUSES, PAUSED_STATUSES, Batch
from lc_ingest.batches_service import BatchLifecycle
from lc_ingest.config import IngestSettings
from lc_ingest.domain.progress import drifted_counters
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
    relay: OutboxRelay
    # Per batch, the counter drift the last reconcile pass saw (see reconcile_once).
    _drift: dict[str, dict[str, int]] = field(default_factory=dict)

    def start_import(self, batch_id: str, path: Path) -> None:
        """Import a received file in the background, as a worker: an import that cannot
        reach the store or broker brings the process down, to be resumed on restart."""
        self.workers.start(f"import:{batch_id}", self.importer.run(batch_id, path))

    async def resume_imports(self) -> None:
        """Restart imports that a previous process left half done (paused ones too)."""
        for doc in await self.store.batches_with_status(["importing", "paused"]):
            if Batch.from_doc(doc).import_done:
                continue
            path = Path(doc.get("upload_path", ""))
            if path.is_file():
                log.info("import_resumed", batch_id=doc["_id"])
                self.start_import(doc["_id"], path)
            else:
                await self.lifecycle.fail(
                    doc["_id"], "The upload was lost during a restart; upload again."
                )

    async def reconcile_forever(self) -> None:
        """Reconcile open batches now and then (see `reconcile_once`)."""
        while True:
            await asyncio.sleep(self.settings.reconcile_interval_seconds)
            await self.reconcile_once()

    async def reconcile_once(self) -> None:
        """Counters converge after a crash between a lead's write and its batch's `$inc`,
        and a batch whose last verdict was so lost still finishes.

        A drift is corrected only when two passes in a row saw the same one on unchanged
        counters: a verdict between its lead write and its `$inc` is not a drift.
        """
        seen: dict[str, dict[str, int]] = {}
        for doc in await self.store.batches_with_status([*ACTIVE_STATUSES, *PAUSED_STATUSES]):
            batch = Batch.from_doc(doc)
            if not batch.import_done:
                continue
            drift = drifted_counters(batch, await self.store.count_states(batch.id))
            if drift:
                key = {**batch.counters, **{f"to_{k}": v for k, v in drift.items()}}
                if self._drift.get(batch.id) == key:
                    log.warning("batch_counters_corrected", batch_id=batch.id, **drift)
                    await self.store.update_batch(batch.id, drift, match=dict(batch.counters))
                else:
                    seen[batch.id] = key
            await self.lifecycle.finish_if_done(batch.id)
        self._drift = seen

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
    relay = OutboxRelay(
        store.batches, publisher, BATCH_EVENTS, scan_interval=settings.outbox_scan_seconds
    )
    lifecycle = BatchLifecycle(store, clock, relay.wake)
    rt = IngestRuntime(
        settings=settings,
        store=store,
        publisher=publisher,
        lifecycle=lifecycle,
        importer=Importer(store, publisher, lifecycle, clock, settings.import_chunk_rows),
        clock=clock,
        workers=workers,
        client=client,
        relay=relay,
    )
    workers.start("outbox", relay.run())
    start_consumers(workers, settings, consumer_specs(store, lifecycle), publisher)
    workers.start("reconcile", rt.reconcile_forever())
    await rt.resume_imports()
    try:
        yield rt
    finally:
        await workers.stop()
        await publisher.stop()
        await client.close()
