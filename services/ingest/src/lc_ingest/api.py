"""Internal HTTP API of ingest (docs/internal-apis.md); the gateway is its only client."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from lc_common.events.types import Identifier
from lc_common.http import AccountId, InternalCaller, ServiceError
from lc_ingest.batches import FINAL_LEAD_STATES, BatchView, batch_view
from lc_ingest.batches_service import new_batch_counters
from lc_ingest.bootstrap import IngestRuntime
from lc_ingest.domain.encoding import UnreadableFile
from lc_ingest.domain.preview import DryRun, preview
from lc_ingest.downloads import download_chunks, local_day_bounds, zone
from lc_ingest.metrics import DOWNLOADS, UPLOAD_BYTES
from lc_ingest.upload import Upload, receive_upload

router = APIRouter(prefix="/internal/v1", dependencies=[InternalCaller])


def runtime(request: Request) -> IngestRuntime:
    rt: IngestRuntime = request.app.state.runtime
    return rt


Runtime = Annotated[IngestRuntime, Depends(runtime)]


# Every route is for peers only: the shared internal token is checked first.
Account = AccountId


async def _own_batch(rt: IngestRuntime, batch_id: str, account_id: str) -> dict[str, Any]:
    batch = await rt.store.get_batch(batch_id, account_id)
    if batch is None:
        raise ServiceError(404, "batch_not_found", f"No batch {batch_id}.")
    return batch


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


def _local_day(day: dt.date | None, tz: str) -> tuple[str, str] | None:
    """The stored-time range of a local date in the zone `tz` (C2), or None for no date."""
    try:
        where = zone(tz)
    except ValueError as exc:
        raise ServiceError(422, "bad_time_zone", f"{tz!r} is not an IANA time zone.") from exc
    return None if day is None else local_day_bounds(day, where)


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


@router.post("/imports/preview")
async def preview_import(request: Request, rt: Runtime, _: Account) -> dict[str, Any]:
    """Detected (or overridden: `encoding`, `delimiter`, `has_header`) format, header, first
    rows and the suggested phone column; with `phone_column`, that column and a dry run of
    the whole file (contract C1). The spooled file is removed whatever happens."""
    upload = await receive_upload(request, rt.settings.upload_dir, rt.settings.max_upload_bytes)
    fields = upload.fields
    try:
        with upload.path.open("rb") as binary:
            found = await asyncio.to_thread(
                preview,
                binary,
                10,
                fields.default_region or rt.settings.default_region,
                overrides=fields.overrides,
                phone_column=fields.phone_column or None,
            )
    except UnreadableFile as exc:
        raise ServiceError(422, "unreadable_file", str(exc)) from exc
    finally:
        upload.path.unlink(missing_ok=True)
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


@router.post("/batches", status_code=201)
async def create_batch(request: Request, rt: Runtime, account_id: Account) -> BatchView:
    """Receive the file, create the batch and start importing it in the background. The
    spooled file is removed on every failure before the import starts."""
    upload = await receive_upload(request, rt.settings.upload_dir, rt.settings.max_upload_bytes)
    try:
        doc = _new_batch(rt, account_id, upload)
        await rt.store.create_batch(doc)
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise
    UPLOAD_BYTES.observe(upload.size)
    rt.start_import(doc["_id"], upload.path)
    return batch_view(doc)


def _new_batch(rt: IngestRuntime, account_id: str, upload: Upload) -> dict[str, Any]:
    fields = upload.fields
    chosen = fields.overrides
    return {
        "_id": f"bat_{secrets.token_hex(8)}",
        "account_id": account_id,
        "name": fields.name or upload.filename,
        "reference": fields.reference,
        "filename": upload.filename,
        "phone_column_choice": fields.phone_column,
        "phone_column": fields.phone_column,
        "default_region": (fields.default_region or rt.settings.default_region).upper(),
        "format_overrides": {
            "encoding": chosen.encoding,
            "delimiter": chosen.delimiter,
            "has_header": chosen.has_header,
        },
        "status": "importing",
        "import_done": False,
        "submitted_at": rt.clock.now(),
        "upload_path": str(upload.path),
        **new_batch_counters(),
    }


@router.get("/batches")
async def list_batches(rt: Runtime, account_id: Account) -> BatchList:
    """The account's batches, newest first."""
    return BatchList(batches=[batch_view(b) for b in await rt.store.list_batches(account_id)])


@router.get("/batches/{batch_id}")
async def get_batch(batch_id: str, rt: Runtime, account_id: Account) -> BatchView:
    """One batch with its counters."""
    return batch_view(await _own_batch(rt, batch_id, account_id))


@router.patch("/batches/{batch_id}")
async def patch_batch(
    batch_id: str, body: PauseRequest, rt: Runtime, account_id: Account
) -> BatchView:
    """Pause or unpause."""
    batch = await _own_batch(rt, batch_id, account_id)
    return batch_view(await rt.lifecycle.set_paused(batch, body.paused))


@router.delete("/batches/{batch_id}")
async def delete_expired_batch(
    batch_id: str,
    rt: Runtime,
    account_id: Account,
    expired_before: Annotated[dt.datetime, Query()],
) -> BatchView:
    """Retention (asked by the scheduler): delete the batch if its retention started before
    `expired_before`; 409 `not_expired` otherwise. The batch stays, as Deleted."""
    if expired_before.tzinfo is None:
        raise ServiceError(422, "naive_time", "expired_before needs a time zone.")
    await _own_batch(rt, batch_id, account_id)
    deleted = await rt.lifecycle.delete_expired(batch_id, expired_before)
    if deleted is None:
        raise ServiceError(404, "batch_not_found", f"No batch {batch_id}.")
    return batch_view(deleted)


@router.get("/batches/{batch_id}/download")
async def download(
    batch_id: str,
    rt: Runtime,
    account_id: Account,
    processed_on: Annotated[dt.date | None, Query()] = None,
    tz: Annotated[str, Query(max_length=64)] = "UTC",
) -> StreamingResponse:
    """The batch as CSV (UTF-8 with a BOM, the upload's delimiter), streamed; optionally only
    the leads finalised on `processed_on`, a local date in the IANA zone `tz` (C2)."""
    between = _local_day(processed_on, tz)
    batch = await _own_batch(rt, batch_id, account_id)
    if batch["status"] == "deleted":
        raise ServiceError(
            410, "batch_deleted", "This batch was deleted under the 6-week retention policy."
        )
    if batch["status"] in ("importing", "failed"):
        raise ServiceError(
            409, "not_imported", f"The batch is {batch['status']}: nothing to download."
        )
    day = processed_on.isoformat() if processed_on else None
    DOWNLOADS.labels("day" if day else "all").inc()
    suffix = f"-{day}" if day else ""
    return StreamingResponse(
        download_chunks(rt.store, batch, between),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{batch_id}{suffix}.csv"'},
    )


@router.get("/daily")
async def daily(
    rt: Runtime,
    account_id: Account,
    date: Annotated[dt.date, Query()],
    tz: Annotated[str, Query(max_length=64)] = "UTC",
) -> dict[str, Any]:
    """Per batch, the leads of the account whose final verdict fell on `date`, a local date
    in the IANA zone `tz` (default UTC)."""
    between = _local_day(date, tz)
    assert between is not None  # a date was given
    per_batch = await rt.store.daily_counts(account_id, between)
    batches = []
    for batch_id, found in sorted(per_batch.items()):
        counts = {state: found.get(state, 0) for state in FINAL_LEAD_STATES}
        batch = await rt.store.get_batch(batch_id, account_id)
        if batch is None:
            continue
        batches.append(
            {
                "batch_id": batch_id,
                "name": batch["name"],
                "reference": batch["reference"],
                "processed": sum(counts.values()),
                **counts,
            }
        )
    return {"date": date.isoformat(), "tz": tz, "batches": batches}


@router.get("/leads")
async def open_leads(
    rt: Runtime,
    after: str = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    open: bool = True,
) -> dict[str, Any]:
    """Leads not final yet, for the scheduler's re-drive after a broker data loss."""
    if not open:
        raise ServiceError(400, "unsupported", "Only open=true is supported.")
    docs = await rt.store.open_leads(after, limit)
    leads = [
        {
            "lead_id": d["_id"],
            "batch_id": d["batch_id"],
            "account_id": d["account_id"],
            "e164": d["e164"],
            "state": d["state"],
            "attempts": d.get("attempts", 0),
        }
        for d in docs
    ]
    return {"leads": leads, "next": leads[-1]["lead_id"] if len(leads) == limit else None}


@router.post("/leads/states")
async def lead_states(body: LeadStatesRequest, rt: Runtime) -> LeadStates:
    """The states of these leads, for billing's reconciler; unknown (or purged) ids are
    omitted. `chargeable` is known only for a final lead (null otherwise, and for leads
    finalised before it was kept)."""
    docs = await rt.store.leads_by_id(
        body.lead_ids, ["account_id", "batch_id", "state", "attempts", "chargeable"]
    )
    leads = []
    for doc in sorted(docs, key=lambda d: str(d["_id"])):
        final = doc["state"] in FINAL_LEAD_STATES
        leads.append(
            LeadState(
                lead_id=doc["_id"],
                account_id=doc["account_id"],
                batch_id=doc["batch_id"],
                state=doc["state"],
                final=final,
                chargeable=doc.get("chargeable") if final else None,
                attempts=doc.get("attempts", 0),
            )
        )
    return LeadStates(leads=leads)
