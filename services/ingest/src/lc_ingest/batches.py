"""Batch documents: their shape, counters and the JSON clients see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from lc_common.store import from_store_time
from lc_ingest.domain.progress import (
    ACTIVE_STATUSES,
    COUNTERS,
    FINAL_LEAD_STATES,
    OPEN_LEAD_STATES,
    PAUSED_STATUSES,
    RETENTION_STATUSES,
    Batch,
    BatchStatus,
)

__all__ = [
    "ACTIVE_STATUSES",
    "COUNTERS",
    "FINAL_LEAD_STATES",
    "OPEN_LEAD_STATES",
    "PAUSED_STATUSES",
    "RETENTION_STATUSES",
    "Batch",
    "BatchStatus",
    "BatchView",
    "batch_view",
    "lead_id",
    "lead_id_range",
]


class BatchView(BaseModel):
    """A batch as the API shows it, with every counter of DESIGN.md section 1."""

    id: str
    account_id: str
    name: str
    reference: str
    filename: str
    status: BatchStatus
    paused: bool
    failure_reason: str | None
    submitted_at: datetime
    finished_at: datetime | None
    imported: int
    accepted: int
    rejected: int
    connected: int
    disconnected: int
    indeterminate: int
    retry: int
    processed: int
    remaining: int
    phone_column: str
    default_region: str


def batch_view(doc: dict[str, Any]) -> BatchView:
    """The client-facing view of a stored batch document."""
    batch = Batch.from_doc(doc)
    return BatchView(
        id=doc["_id"],
        account_id=doc["account_id"],
        name=doc["name"],
        reference=doc["reference"],
        filename=doc["filename"],
        status=doc["status"],
        paused=doc["status"] in PAUSED_STATUSES,
        failure_reason=doc.get("failure_reason"),
        submitted_at=from_store_time(doc["submitted_at"]),
        finished_at=from_store_time(doc.get("finished_at")),
        processed=batch.processed,
        remaining=batch.remaining,
        phone_column=doc.get("phone_column", ""),
        default_region=doc["default_region"],
        **batch.counters,
    )


def lead_id(batch_id: str, row: int) -> str:
    """The deterministic id of a lead: batch and data-row number, so ids sort in row order."""
    return f"{batch_id}:{row:09d}"


def lead_id_range(batch_id: str) -> dict[str, str]:
    """An `_id` filter for every lead of a batch (a range scan on the primary key)."""
    return {"$gte": f"{batch_id}:", "$lt": f"{batch_id};"}
