"""Internal HTTP API of ingest (docs/internal-apis.md); the gateway is its only client."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from lc_common.http import AccountId, InternalCaller, ServiceError
from lc_ingest.bootstrap import IngestRuntime
from lc_ingest.domain.batch import FINAL_LEAD_STATES, Batch, processed, received_batch
from lc_ingest.domain.encoding import UnreadableFile
from lc_ingest.domain.local_day import local_day_bounds, zone
from lc_ingest.domain.preview import preview
from lc_ingest.download import download_chunks
from lc_ingest.metrics import DOWNLOADS, UPLOAD_BYTES
from lc_ingest.upload import receive_upload
from lc_ingest.views import (
    BatchList,
    BatchView,
    LeadStates,
    LeadStatesRequest,
    PauseRequest,
    batch_view,
    lead_state,
    open_lead,
    preview_view,
)

router = APIRouter(prefix="/internal/v1", dependencies=[InternalCaller])


def runtime(request: Request) -> IngestRuntime:
    rt: IngestRuntime = request.app.state.runtime
    return rt


Runtime = Annotated[IngestRuntime, Depends(runtime)]


# Every route is for peers only: the shared internal token is checked first.
Account = AccountId


async def _own_batch(rt: IngestRuntime, batch_id: str, account_id: str) -> Batch:
    batch = await rt.store.get_batch(batch_id, account_id)
    if batch is None:
        raise ServiceError(404, "batch_not_found", f"No batch {batch_id}.")
    return batch


def _local_day(day: dt.date | None, tz: str) -> tuple[dt.datetime, dt.datetime] | None:
    """The range of a local date in the zone `tz` (C2), or None for no date."""
    try:
        where = zone(tz)
    except ValueError as exc:
        raise ServiceError(422, "bad_time_zone", f"{tz!r} is not an IANA time zone.") from exc
    return None if day is None else local_day_bounds(day, where)


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
    return preview_view(found)


@router.post("/batches", status_code=201)
async def create_batch(request: Request, rt: Runtime, account_id: Account) -> BatchView:
    """Receive the file, create the batch and start importing it in the background. The
    spooled file is removed on every failure before the import starts."""
    upload = await receive_upload(request, rt.settings.upload_dir, rt.settings.max_upload_bytes)
    fields = upload.fields
    try:
        batch = received_batch(
            f"bat_{secrets.token_hex(8)}",
            account_id,
            filename=upload.filename,
            name=fields.name,
            reference=fields.reference,
            phone_column=fields.phone_column,
            default_region=fields.default_region or rt.settings.default_region,
            overrides=fields.overrides,
            upload_path=str(upload.path),
            now=rt.clock.now(),
        )
        await rt.store.create_batch(batch)
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise
    UPLOAD_BYTES.observe(upload.size)
    rt.start_import(batch.id, upload.path)
    return batch_view(batch)


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
    if batch.status == "deleted":
        raise ServiceError(
            410, "batch_deleted", "This batch was deleted under the 6-week retention policy."
        )
    if batch.status in ("importing", "failed"):
        raise ServiceError(
            409, "not_imported", f"The batch is {batch.status}: nothing to download."
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
                "name": batch.name,
                "reference": batch.reference,
                "processed": processed(counts),
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
    leads = [open_lead(lead) for lead in await rt.store.open_leads(after, limit)]
    return {"leads": leads, "next": leads[-1]["lead_id"] if len(leads) == limit else None}


@router.post("/leads/states")
async def lead_states(body: LeadStatesRequest, rt: Runtime) -> LeadStates:
    """The states of these leads, for billing's reconciler; unknown (or purged) ids are
    omitted. `chargeable` is known only for a final lead (null otherwise, and for leads
    finalised before it was kept)."""
    found = await rt.store.leads_by_id(body.lead_ids)
    return LeadStates(leads=[lead_state(lead) for lead in sorted(found, key=lambda f: f.id)])
