"""The download CSV, streamed from the leads in row order, and the local day it may cover."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lc_common.store import from_store_time, to_store_time
from lc_ingest.adapters.store import IngestStore
from lc_ingest.domain.download import (
    BOM,
    AttemptEvidence,
    CleanseStatus,
    LeadResult,
    header_line,
    row_line,
)

_ENCODING = "utf-8"
_CHUNK_BYTES = 65536


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name` (e.g. `Australia/Sydney`); ValueError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def local_day_bounds(day: dt.date, tz: ZoneInfo) -> tuple[str, str]:
    """The stored-time range `[start, end)` of the local date `day` in `tz`: a day with a
    daylight-saving change is 23 or 25 hours long."""
    start = dt.datetime.combine(day, dt.time(), tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
    return to_store_time(start), to_store_time(end)


def _evidence(lead: dict[str, Any]) -> tuple[AttemptEvidence, ...]:
    entries = sorted(lead.get("evidence") or [], key=lambda e: int(e.get("attempt", 0)))
    return tuple(
        AttemptEvidence(
            tested_at=from_store_time(entry.get("tested_at")),
            trunk=str(entry.get("trunk") or ""),
            codes=tuple(int(code) for code in entry.get("codes") or ()),
            q850_cause=entry.get("q850_cause"),
            sit_kind=entry.get("sit_kind"),
        )
        for entry in entries
    )


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
            line_type=lead.get("line_type"),
        )
    return LeadResult(
        status=status,
        e164=lead.get("e164"),
        detail=lead.get("detail"),
        confidence=lead.get("confidence"),
        attempts=lead.get("attempts", 0),
        tested_at=from_store_time(lead.get("tested_at")),
        extension=lead.get("extension"),
        line_type=lead.get("line_type"),
        evidence=_evidence(lead),
    )


async def download_chunks(
    store: IngestStore, batch: dict[str, Any], finalised_between: tuple[str, str] | None
) -> AsyncIterator[bytes]:
    """The CSV bytes (UTF-8 with a BOM): the original header and rows plus the `cleanse_*`
    columns, in the upload's delimiter; with `finalised_between`, only the leads whose
    final verdict fell in that stored-time range.

    Lines are grouped into chunks of about 64 KiB to keep the response efficient.
    """
    delimiter = batch.get("delimiter", ",")
    header = batch.get("header") or []
    width = len(header)
    buffer = [BOM + header_line(header, delimiter)]
    size = len(buffer[0])
    async for lead in store.iter_leads(batch["_id"], finalised_between):
        line = row_line(lead["cells"], lead_result(lead), delimiter, width)
        buffer.append(line)
        size += len(line)
        if size >= _CHUNK_BYTES:
            yield "".join(buffer).encode(_ENCODING)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode(_ENCODING)
