"""The import job: read a spooled upload, judge every row, store leads, publish the accepted.

Runs in the background after the upload is received. Safe to run again on the
same file (after a crash): leads have deterministic ids, existing ones are kept,
batch totals are set rather than added, and the scheduler ignores a lead it has
already seen.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog

from lc_common.clock import Clock
from lc_common.events import LEADS_ACCEPTED, LeadAcceptedV1
from lc_common.kafka import Publisher
from lc_ingest.adapters.store import IngestStore
from lc_ingest.batches import lead_id
from lc_ingest.batches_service import BatchLifecycle
from lc_ingest.domain.csv_reader import open_csv, suggest_phone_column
from lc_ingest.domain.dedupe import DuplicateDetector
from lc_ingest.domain.encoding import UnreadableFile
from lc_ingest.domain.numbers import Accepted, NumberCheck, check_number, duplicate_of
from lc_ingest.metrics import IMPORT_SECONDS, LEADS_IMPORTED

log = structlog.get_logger(__name__)

Row = tuple[int, list[str]]


def resolve_phone_column(choice: str, header: list[str], suggested: int | None) -> int:
    """The index of the phone column from the client's choice: a header name, an index, or blank."""
    choice = choice.strip()
    if not choice:
        if suggested is None:
            raise UnreadableFile("No column looks like phone numbers: choose the phone column.")
        return suggested
    folded = [h.strip().casefold() for h in header]
    if choice.casefold() in folded:
        return folded.index(choice.casefold())
    if choice.isdigit() and int(choice) < len(header):
        return int(choice)
    raise UnreadableFile(
        f"The phone column {choice!r} is not in the file; its columns are: {', '.join(header)}."
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
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._lifecycle = lifecycle
        self._clock = clock
        self._chunk_rows = chunk_rows

    async def run(self, batch_id: str, path: Path) -> None:
        """Import the file into the batch, then mark it queued (or failed with a reason)."""
        batch = await self._store.get_batch(batch_id)
        if batch is None or batch["status"] != "importing":
            return
        started = self._clock.now()
        with structlog.contextvars.bound_contextvars(batch_id=batch_id):
            try:
                with path.open("rb") as binary:
                    totals = await self._import(batch, binary)
            except UnreadableFile as exc:
                await self._lifecycle.fail(batch, str(exc))
                return
            except Exception as exc:
                log.exception("import_crashed")
                await self._lifecycle.fail(
                    batch, f"The import failed unexpectedly ({type(exc).__name__}); upload again."
                )
                return
            finally:
                path.unlink(missing_ok=True)
            IMPORT_SECONDS.observe((self._clock.now() - started).total_seconds())
            log.info("import_done", **totals)
            await self._lifecycle.queue(batch_id)

    async def _import(self, batch: dict[str, Any], binary: Any) -> dict[str, int]:
        document = await asyncio.to_thread(open_csv, binary)
        rows = document.rows()
        sample = await asyncio.to_thread(lambda: list(itertools.islice(rows, 50)))
        column = resolve_phone_column(
            batch["phone_column_choice"],
            document.header,
            suggest_phone_column(document.header, [c for _, c in sample], batch["default_region"]),
        )
        await self._store.update_batch(
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
        totals = {"imported": 0, "accepted": 0, "rejected": 0}
        while chunk := await asyncio.to_thread(
            lambda: list(itertools.islice(stream, self._chunk_rows))
        ):
            leads, accepted = self._judge(batch, chunk, column, dedupe)
            await self._store.insert_leads(leads)
            await self._publisher.publish_many(
                LEADS_ACCEPTED, ((event.lead_id, event) for event in accepted)
            )
            totals["imported"] += len(chunk)
            totals["accepted"] += len(accepted)
            totals["rejected"] += len(chunk) - len(accepted)
            await self._store.update_batch(batch["_id"], totals)
            LEADS_IMPORTED.labels("accepted").inc(len(accepted))
            LEADS_IMPORTED.labels("rejected").inc(len(chunk) - len(accepted))
        if totals["imported"] == 0:
            raise UnreadableFile("The file has a header but no data rows.")
        return totals

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
                    lead["e164"] = verdict.e164
                    verdict = duplicate_of(first_row)
            if isinstance(verdict, Accepted):
                lead.update(state="pending", e164=verdict.e164, region=verdict.region)
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
