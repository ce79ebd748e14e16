"""The download CSV, streamed from the leads in row order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from lc_common.store import from_store_time
from lc_ingest.adapters.store import IngestStore
from lc_ingest.domain.download import CleanseStatus, LeadResult, header_line, row_line

_ENCODING = "utf-8"


def lead_result(lead: dict[str, Any]) -> LeadResult:
    """The result columns of one stored lead."""
    state = lead["state"]
    status = CleanseStatus(state)
    if status is CleanseStatus.REJECTED:
        return LeadResult(
            status=status,
            e164=lead.get("e164"),
            detail=lead.get("reject_code"),
            reject_reason=lead.get("reject_reason"),
        )
    return LeadResult(
        status=status,
        e164=lead.get("e164"),
        detail=lead.get("detail"),
        confidence=lead.get("confidence"),
        attempts=lead.get("attempts", 0),
        tested_at=from_store_time(lead.get("tested_at")),
    )


async def download_chunks(
    store: IngestStore, batch: dict[str, Any], processed_on: str | None
) -> AsyncIterator[bytes]:
    """The CSV bytes: the original header and rows plus the `cleanse_*` columns.

    Lines are grouped into chunks of about 64 KiB to keep the response efficient.
    """
    delimiter = batch.get("delimiter", ",")
    header = batch.get("header") or []
    width = len(header)
    buffer = [header_line(header, delimiter)]
    size = len(buffer[0])
    async for lead in store.iter_leads(batch["_id"], processed_on):
        line = row_line(lead["cells"], lead_result(lead), delimiter, width)
        buffer.append(line)
        size += len(line)
        if size >= 65536:
            yield "".join(buffer).encode(_ENCODING)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode(_ENCODING)
