"""The import job: read a spooled upload, judge every row, store leads, publish the accepted.

Runs in the background after the upload is received. Safe to run again on the
same file (after a crash): leads have deterministic ids, rows already stored are
neither stored nor counted again, and a resumed import first recounts Imported,
Accepted and Rejected from the rows actually stored, so the counters only ever
grow (docs/invariants.md I5). Per chunk the rows are stored, then counted, then
the accepted ones published: a lead is counted before any verdict can reach it.

The import is a pipeline of three stages joined by bounded queues (`queued_chunks`
chunks each), so memory stays flat whatever the file's size and the stages overlap:
reading and judging a chunk (CSV, phone number check, dedupe: in a thread), storing
and counting the one before (one bulk insert and one `$inc`), publishing the one
before that (sent together, acknowledgements awaited per chunk). 16 rows and
1,000,000 rows take the same path.

Only a file that cannot be read fails the batch. A store or broker error is
retried; if it persists the import task raises, which brings the process down
(its supervisor restarts it and `resume_imports` goes on from what was stored).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import structlog
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

from lc_common.clock import Clock
from lc_common.events import LEADS_ACCEPTED, LeadAcceptedV1
from lc_ingest.domain.batch import Batch
from lc_ingest.domain.columns import resolve_phone_column, suggest_phone_column
from lc_ingest.domain.csv_reader import open_csv
from lc_ingest.domain.dedupe import DuplicateDetector
from lc_ingest.domain.encoding import UnreadableFile
from lc_ingest.domain.imports import (
    Judged,
    Row,
    chunk_deltas,
    import_counters,
    judge_chunk,
    not_yet_stored,
)
from lc_ingest.lifecycle import BatchLifecycle
from lc_ingest.metrics import IMPORT_SECONDS, IMPORT_STAGE_SECONDS, LEADS_IMPORTED
from lc_ingest.ports import IngestStore, LeadPublisher

log = structlog.get_logger(__name__)

T = TypeVar("T")


async def handoff(queue: asyncio.Queue[T], item: T, consumer: asyncio.Task[None]) -> None:
    """Put `item` on the bounded `queue` (waiting while it is full); raise the consumer's
    error instead if it stops meanwhile, so a failed stage never leaves its feeder waiting."""
    put = asyncio.ensure_future(queue.put(item))
    try:
        await asyncio.wait({put, consumer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not put.done():
            put.cancel()
    if not put.done() or put.cancelled():
        consumer.result()  # raises its error
        raise RuntimeError("an import stage ended before its input did")


async def timed(stage: str, work: Awaitable[T]) -> T:
    """Await `work`, adding its time to the stage's busy seconds."""
    with IMPORT_STAGE_SECONDS.labels(stage).time():
        return await work


class Importer:
    """Imports one batch's file."""

    def __init__(
        self,
        store: IngestStore,
        publisher: LeadPublisher,
        lifecycle: BatchLifecycle,
        clock: Clock,
        chunk_rows: int = 1000,
        *,
        queued_chunks: int = 2,
        attempts: int = 6,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._lifecycle = lifecycle
        self._clock = clock
        self._chunk_rows = chunk_rows
        self._queued_chunks = queued_chunks
        self._attempts = attempts
        self._max_backoff = max_backoff_seconds

    async def run(self, batch_id: str, path: Path) -> None:
        """Import the file into the batch, then queue it (or fail it with a reason if the
        file cannot be read). Raises if the store or broker stays unavailable; the
        upload is then kept for the resumed import."""
        batch = await self._store.get_batch(batch_id)
        if batch is None or batch.import_done or batch.status == "failed":
            return
        started = self._clock.now()
        with structlog.contextvars.bound_contextvars(batch_id=batch_id):
            try:
                with path.open("rb") as binary:
                    totals = await self._import(batch, binary)
            except UnreadableFile as exc:
                await self._retrying(self._lifecycle.fail, batch_id, str(exc))
                path.unlink(missing_ok=True)
                return
            IMPORT_SECONDS.observe((self._clock.now() - started).total_seconds())
            log.info("import_done", **totals)
            await self._retrying(self._lifecycle.complete_import, batch_id)
            path.unlink(missing_ok=True)

    async def _retrying(self, operation: Any, *args: Any) -> Any:
        """Run a store or broker operation, retried with backoff; raises if it keeps failing."""
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=0.1, max=self._max_backoff),
            reraise=True,
        ):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    log.warning("import_step_retried", step=operation.__name__)
                return await operation(*args)

    async def _import(self, batch: Batch, binary: Any) -> dict[str, int]:
        document = await asyncio.to_thread(open_csv, binary, batch.format_overrides)
        rows = document.rows()
        sample = await asyncio.to_thread(lambda: list(itertools.islice(rows, 50)))
        choice = batch.phone_column_choice
        # Only without a choice is every column checked for phone numbers.
        suggested = (
            None
            if choice.strip()
            else suggest_phone_column(document.header, [c for _, c in sample], batch.default_region)
        )
        column = resolve_phone_column(choice, document.header, suggested)
        await self._retrying(
            self._store.update_batch,
            batch.id,
            {
                "header": document.header,
                "has_header": document.has_header,
                "delimiter": document.delimiter,
                "encoding": document.encoding,
                "phone_column": document.header[column],
                "phone_column_index": column,
            },
        )
        stream: Iterator[Row] = itertools.chain(sample, rows)
        # Rows a previous run stored: counted from the store, never stored or counted again.
        stored = await self._retrying(self._store.count_states, batch.id)
        totals = import_counters(stored)
        if totals["imported"]:
            log.info("import_resumed_from_store", **totals)
            await self._retrying(self._store.update_batch, batch.id, totals)
        judged: asyncio.Queue[Judged | None] = asyncio.Queue(self._queued_chunks)
        to_publish: asyncio.Queue[list[LeadAcceptedV1] | None] = asyncio.Queue(self._queued_chunks)
        publishing = asyncio.create_task(self._publish_chunks(to_publish))
        storing = asyncio.create_task(
            self._store_chunks(batch.id, judged, to_publish, totals, bool(stored), publishing)
        )
        unreadable: UnreadableFile | None = None
        rows_seen = 0
        try:
            try:
                rows_seen = await self._judge_chunks(batch, stream, column, judged, storing)
            except UnreadableFile as exc:
                # The rows judged before the bad line are still stored and counted.
                unreadable = exc
            await handoff(judged, None, storing)
            await storing
            await publishing
        except BaseException:
            for stage in (storing, publishing):
                stage.cancel()
            await asyncio.gather(storing, publishing, return_exceptions=True)
            raise
        if unreadable is not None:
            raise unreadable
        if rows_seen == 0:
            raise UnreadableFile("The file has a header but no data rows.")
        return totals

    async def _judge_chunks(
        self,
        batch: Batch,
        stream: Iterator[Row],
        column: int,
        judged: asyncio.Queue[Judged | None],
        storing: asyncio.Task[None],
    ) -> int:
        """Stage 1: read and judge the rows a chunk at a time (in a thread: parsing and
        checking are the CPU work); how many rows there were."""
        dedupe = DuplicateDetector()

        def next_chunk() -> Judged | None:
            chunk = list(itertools.islice(stream, self._chunk_rows))
            if not chunk:
                return None
            return judge_chunk(
                batch.id, batch.account_id, batch.default_region, chunk, column, dedupe
            )

        rows_seen = 0
        while chunk := await timed("judge", asyncio.to_thread(next_chunk)):
            rows_seen += len(chunk.leads)
            await handoff(judged, chunk, storing)
        return rows_seen

    async def _store_chunks(
        self,
        batch_id: str,
        judged: asyncio.Queue[Judged | None],
        to_publish: asyncio.Queue[list[LeadAcceptedV1] | None],
        totals: dict[str, int],
        resumed: bool,
        publishing: asyncio.Task[None],
    ) -> None:
        """Stage 2: store each chunk's leads in one bulk write, then count them with one
        `$inc`, then hand its accepted leads to the publisher: a lead is counted before any
        verdict can reach it."""
        while (chunk := await judged.get()) is not None:
            leads, accepted = chunk.leads, chunk.accepted
            with IMPORT_STAGE_SECONDS.labels("store").time():
                if resumed:
                    ids = [lead.id for lead in leads]
                    found = await self._retrying(self._store.leads_by_id, ids)
                    leads, accepted = not_yet_stored(chunk, {f.id: f.state for f in found})
                await self._retrying(self._store.insert_leads, leads)
                deltas = chunk_deltas(leads)
                await self._retrying(self._store.add_to_counters, batch_id, deltas)
            for name, n in deltas.items():
                totals[name] += n
            LEADS_IMPORTED.labels("accepted").inc(deltas["accepted"])
            LEADS_IMPORTED.labels("rejected").inc(deltas["rejected"])
            await handoff(to_publish, accepted, publishing)
        await handoff(to_publish, None, publishing)

    async def _publish_chunks(self, to_publish: asyncio.Queue[list[LeadAcceptedV1] | None]) -> None:
        """Stage 3: publish each chunk's accepted leads in one batch (sent together, then
        every acknowledgement awaited), while the next chunk is being stored."""
        while (accepted := await to_publish.get()) is not None:
            await timed(
                "publish",
                self._retrying(
                    self._publisher.publish_many,
                    LEADS_ACCEPTED,
                    [(event.batch_id, event) for event in accepted],
                ),
            )


async def resume_imports(
    store: IngestStore, lifecycle: BatchLifecycle, start: Callable[[str, Path], None]
) -> None:
    """Restart (with `start`) the imports a previous process left half done, paused ones
    too; a batch whose upload is gone fails with a reason."""
    for batch in await store.batches_with_status(["importing", "paused"]):
        if batch.import_done:
            continue
        path = Path(batch.upload_path)
        if batch.upload_path and path.is_file():
            log.info("import_resumed", batch_id=batch.id)
            start(batch.id, path)
        else:
            await lifecycle.fail(batch.id, "The upload was lost during a restart; upload again.")
