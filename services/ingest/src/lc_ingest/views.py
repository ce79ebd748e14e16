"""What ingest's internal API answers (docs/internal-apis.md): the JSON of batches, leads
and dry runs, made from the domain's types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from lc_common.events.types import Identifier
from lc_ingest.domain.batch import Batch, BatchStatus
from lc_ingest.domain.lead import LeadSummary
from lc_ingest.domain.preview import DryRun, Preview


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


def batch_view(batch: Batch) -> BatchView:
    """The client-facing view of a batch."""
    return BatchView(
        id=batch.id,
        account_id=batch.account_id,
        name=batch.name,
        reference=batch.reference,
        filename=batch.filename,
        status=batch.status,
        paused=batch.paused,
        failure_reason=batch.failure_reason,
        submitted_at=batch.submitted_at,
        finished_at=batch.finished_at,
        processed=batch.processed,
        remaining=batch.remaining,
        phone_column=batch.phone_column,
        default_region=batch.default_region,
        **batch.counters.as_dict(),
    )


class BatchList(BaseModel):
    batches: list[BatchView]


class PauseRequest(BaseModel):
    paused: bool


class LeadStatesRequest(BaseModel):
    lead_ids: list[Identifier] = Field(min_length=1, max_length=1000)


class LeadState(BaseModel):
    lead_id: str
    account_id: str
    batch_id: str
    state: str
    final: bool
    chargeable: bool | None
    attempts: int


class LeadStates(BaseModel):
    leads: list[LeadState]


def lead_state(lead: LeadSummary) -> LeadState:
    """A lead's state for billing's reconciler: `chargeable` only once final."""
    return LeadState(
        lead_id=lead.id,
        account_id=lead.account_id,
        batch_id=lead.batch_id,
        state=lead.state,
        final=lead.final,
        chargeable=lead.chargeable if lead.final else None,
        attempts=lead.attempts,
    )


def open_lead(lead: LeadSummary) -> dict[str, Any]:
    """A lead not final yet, for the scheduler's re-drive."""
    return {
        "lead_id": lead.id,
        "batch_id": lead.batch_id,
        "account_id": lead.account_id,
        "e164": lead.e164,
        "state": lead.state,
        "attempts": lead.attempts,
    }


def preview_view(found: Preview) -> dict[str, Any]:
    """The detected format, header, first rows, suggested phone column and dry run."""
    column = found.suggested_phone_column
    answer: dict[str, Any] = {
        "encoding": found.encoding,
        "delimiter": found.delimiter,
        "has_header": found.has_header,
        "header": found.header,
        "rows": found.rows,
        "suggested_phone_column": found.header[column] if column is not None else None,
        "suggested_phone_column_index": column,
    }
    if found.dry_run is not None:
        answer["dry_run"] = _dry_run_view(found.dry_run)
    return answer


def _dry_run_view(run: DryRun) -> dict[str, Any]:
    return {
        "rows": run.rows,
        "accepted": run.accepted,
        "rejected": run.rejected,
        "duplicates": run.duplicates,
        "rejected_by_reason": [
            {"reason": r.reason, "count": r.count, "examples": r.examples}
            for r in run.rejected_by_reason
        ],
    }
