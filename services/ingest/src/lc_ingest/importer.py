"""The import job: read a spooled upload, judge every row, store leads, publish the accepted.

Runs in the background after the upload is received. Safe to run again on the
same file (after a crash): leads have deterministic ids, rows already stored are
neither stored nor counted again, and a resumed import first recounts Imported,
Accepted and Rejected from the rows actually stored, so the counters only ever
grow (docs/invariants.md I5). Per chunk the rows are stored, then counted, then
the accepted ones published: a lead is counted before any verdict can reach it.

Only a file that cannot be read fails the batch. A store or broker error is
retried; if it persists the import task raises, which brings the process down
(its supervisor restarts it and `resume_imports` goes on from what was stored).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

from lc_common.clock import Clock
from lc_common.events import LEADS_ACCEPTED, LeadAcceptedV1
from lc_common.kafka import Publisher
from lc_ingest.adapters.store import IngestStore
from lc_ingest.batches import lead_id
from lc_ingest.batches_service import BatchLifecycle
from lc_ingest.domain.columns import resolve_phone_column, suggest_phone_column
from lc_ingest.domain.csv_reader import Overrides, open_csv
from lc_ingest.domain.dedupe import DuplicateDetector
from lc_ingest.domain.encoding import UnreadableFile
from lc_ingest.domain.numbers import Accepted, NumberCheck, check_number, duplicate_of
from lc_ingest.domain.progress import Batch, import_counters
from lc_ingest.metrics import IMPORT_SECONDS, LEADS_IMPORTED

log = structlog.get_logger(__name__)

Row = tuple[int, list[str]]


def overrides_of(batch: dict[str, Any]) -> Overrides:
    """The format the client chose at upload (stored on the batch), None where detected."""
    chosen = batch.get("format_overrides") or {}
    return Overrides(
        encoding=chosen.get("encoding"),
        delimiter=chosen.get("delimiter"),
        has_header=chosen.get("has_header"),
    )


class Importer:
    """Imports one batch's file."""

    def __init__(
        self,
        store: IngestStore,
        publisher: Publisher,
        lifecycle: BatchLifecycle,
        clock: Clock,
        chunk_rows: int = 1000,
        *,
        attempts: int = 6,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._lifecycle = lifecycle
        self._clock = clock
        self._chunk_rows = chunk_rows
        self._attempts = attempts
        self._max_backoff = max_backoff_seconds

    async def run(self, batch_id: str, path: Path) -> None:
        """Import the file into the batch, then queue it (or fail it with a reason if the
        file cannot be read). Raises if the store or broker stays unavailable; the
        upload is then kept for the resumed import."""
        doc = await self._store.get_batch(batch_id)
        if doc is None or Batch.from_doc(doc).import_done or doc["status"] == "failed":
            return
        started = self._clock.now()
        with structlog.contextvars.bound_contextvars(batch_id=batch_id):
            try:
                with path.open("rb") as binary:
                    totals = await self._import(doc, binary)
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

    async def _import(self, batch: dict[str, Any], binary: Any) -> dict[str, int]:
        document = await asyncio.to_thread(open_csv, binary, overrides_of(batch))
        rows = document.rows()
        sample = await asyncio.to_thread(lambda: list(itertools.islice(rows, 50)))
        choice = batch["phone_column_choice"]
        # Only without a choice is every column checked for phone numbers.
        suggested = (
            None
            if choice.strip()
            else suggest_phone_column(
                document.header, [c for _, c in sample], batch["default_region"]
            )
        )
        column = resolve_phone_column(choice, document.header, suggested)
        await self._retrying(
            self._store.update_batch,
            batch["_id"],
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
        dedupe = DuplicateDetector()
        # Rows a previous run stored: counted from the store, never stored or counted again.
        stored = await self._retrying(self._store.count_states, batch["_id"])
        totals = import_counters(stored)
        if totals["imported"]:
            log.info("import_resumed_from_store", **totals)
            await self._retrying(self._store.update_batch, batch["_id"], totals)
        rows_seen = 0
        while chunk := await asyncio.to_thread(
            lambda: list(itertools.islice(stream, self._chunk_rows))
        ):
            rows_seen += len(chunk)
            leads, accepted = self._judge(batch, chunk, column, dedupe)
            if stored:
                leads, accepted = await self._not_yet_stored(leads, accepted)
            await self._retrying(self._store.insert_leads, leads)
            new_accepted = sum(1 for lead in leads if lead["state"] == "pending")
            deltas = {
                "imported": len(leads),
                "accepted": new_accepted,
                "rejected": len(leads) - new_accepted,
            }
            await self._retrying(self._store.add_to_counters, batch["_id"], deltas)
            await self._retrying(
                self._publisher.publish_many,
                LEADS_ACCEPTED,
                [(event.lead_id, event) for event in accepted],
            )
            for name, n in deltas.items():
                totals[name] += n
            LEADS_IMPORTED.labels("accepted").inc(new_accepted)
            LEADS_IMPORTED.labels("rejected").inc(len(leads) - new_accepted)
        if rows_seen == 0:
            raise UnreadableFile("The file has a header but no data rows.")
        return totals

    async def _not_yet_stored(
        self, leads: list[dict[str, Any]], accepted: list[LeadAcceptedV1]
    ) -> tuple[list[dict[str, Any]], list[LeadAcceptedV1]]:
        """Of a chunk judged again by a resumed import: the leads to store, and the accepted
        to publish (new ones, and stored ones still pending: their publish may be lost)."""
        found = await self._retrying(
            self._store.leads_by_id, [lead["_id"] for lead in leads], ["state"]
        )
        held = {doc["_id"]: doc["state"] for doc in found}
        fresh = [lead for lead in leads if lead["_id"] not in held]
        republish = [e for e in accepted if held.get(e.lead_id, "pending") == "pending"]
        return fresh, republish

    def _judge(
        self, batch: dict[str, Any], chunk: list[Row], column: int, dedupe: DuplicateDetector
    ) -> tuple[list[dict[str, Any]], list[LeadAcceptedV1]]:
        leads: list[dict[str, Any]] = []
        accepted: list[LeadAcceptedV1] = []
        batch_id, account_id = batch["_id"], batch["account_id"]
        for row, cells in chunk:
            raw = cells[column] if column < len(cells) else ""
            lead: dict[str, Any] = {
                "_id": lead_id(batch_id, row),
                "batch_id": batch_id,
                "account_id": account_id,
                "row": row,
                "cells": cells,
                "attempts": 0,
            }
            verdict: NumberCheck = check_number(raw, batch["default_region"])
            if isinstance(verdict, Accepted):
                first_row = dedupe.first_seen(verdict.e164, row)
                if first_row is not None:
                    lead.update(e164=verdict.e164, line_type=verdict.number_type)
                    verdict = duplicate_of(first_row)
            if isinstance(verdict, Accepted):
                lead.update(
                    state="pending",
                    e164=verdict.e164,
                    region=verdict.region,
                    line_type=verdict.number_type,
                )
                if verdict.extension:
                    lead["extension"] = verdict.extension
                accepted.append(
                    LeadAcceptedV1(
                        account_id=account_id,
                        batch_id=batch_id,
                        lead_id=lead["_id"],
                        e164=verdict.e164,
                        region=verdict.region,
                    )
                )
            else:
                lead.update(
                    state="rejected", reject_code=verdict.code.value, reject_reason=verdict.reason
                )
            leads.append(lead)
        return leads, accepted
