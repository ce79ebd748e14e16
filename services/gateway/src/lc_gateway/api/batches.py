"""`/api/v1/imports/preview` and `/api/v1/batches`: the import and the life of a batch."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from lc_gateway.api.idempotent import OPENAPI_HEADER, idempotency_key, upload_once
from lc_gateway.api.schemas import (
    BATCH_EXAMPLE,
    CSV_EXAMPLE,
    ERRORS,
    Batch,
    BatchList,
    BatchPatch,
    Preview,
    error_example,
    multipart_body,
)
from lc_gateway.bootstrap import Gateway
from lc_gateway.domain.accounts import Account
from lc_gateway.dry_run import with_cost
from lc_gateway.edge.auth import ApiAccount, GatewayDep
from lc_gateway.edge.streams import relay
from lc_gateway.edge.uploads import Upload, open_upload
from lc_gateway.errors import NotFound

log = structlog.get_logger(__name__)

router = APIRouter(responses=ERRORS)

_BATCH_ID = re.compile(r"^bat_[A-Za-z0-9]{1,64}$")
_FORMAT_FIELDS = {
    "encoding": "Override the detected encoding (a codec name, e.g. utf-8, cp1252)",
    "delimiter": "Override the detected delimiter: one of , ; | or a tab",
    "has_header": "Override header detection: true or false",
}
_BATCH_FIELDS = {
    "name": "A name for the batch",
    "reference": "The client's own reference",
    "phone_column": "Header name or 0-based index of the phone column (empty: suggested)",
    "default_region": "Country of numbers without a country code (default AU)",
    **_FORMAT_FIELDS,
}
_PREVIEW_FIELDS = {
    **_FORMAT_FIELDS,
    "phone_column": "With it, the answer has a dry run over the whole file, with its cost",
    "default_region": "Country of numbers without a country code (default AU)",
}
_TOO_LARGE = {
    "description": "The file is larger than the upload limit",
    "content": error_example(
        "upload_too_large", "The upload is larger than the limit of 67108864 bytes (64.0 MiB)."
    ),
}
_KEY_IN_PROGRESS = {
    "description": "A request with the same Idempotency-Key is in progress",
    "content": error_example(
        "idempotency_key_in_progress",
        "A request with this Idempotency-Key is still being processed; retry later.",
    ),
}
# A batch just created: importing, nothing counted yet.
_IMPORTING: dict[str, Any] = {
    "status": "importing",
    **dict.fromkeys(
        (
            "imported",
            "accepted",
            "rejected",
            "connected",
            "disconnected",
            "indeterminate",
            "retry",
            "processed",
            "remaining",
        ),
        0,
    ),
}
_PAUSE_EXAMPLES: dict[str, Any] = {
    "pause": {"summary": "Pause: no new call starts", "value": {"paused": True}},
    "unpause": {"summary": "Unpause: dialling resumes", "value": {"paused": False}},
}


def checked_batch_id(batch_id: str) -> str:
    """The id if it has a batch id's shape; otherwise 404, as for any unknown batch."""
    if not _BATCH_ID.match(batch_id):
        raise NotFound(f"There is no batch {batch_id!r}.")
    return batch_id


def with_client(batch: dict[str, Any], account: Account) -> dict[str, Any]:
    """Ingest's batch with the Client column added."""
    return {**batch, "client": account.name}


@router.post(
    "/imports/preview",
    tags=["imports"],
    summary="Preview a CSV before importing it; with `phone_column`, a dry run and its cost",
    response_model=Preview,
    openapi_extra=multipart_body(
        _PREVIEW_FIELDS, example={"phone_column": "phone", "default_region": "AU"}
    ),
    responses={413: _TOO_LARGE},
)
async def preview_import(request: Request, account: ApiAccount, gateway: GatewayDep) -> Any:
    upload = await open_upload(request, gateway.settings.max_upload_bytes)
    preview = await gateway.ingest.preview(account.id, upload.body, upload.content_type)
    return JSONResponse(await with_cost(gateway.billing, account.id, preview))


@router.post(
    "/batches",
    tags=["batches"],
    summary="Import a CSV as a new batch",
    status_code=201,
    response_model=Batch,
    openapi_extra={
        **multipart_body(
            _BATCH_FIELDS,
            example={
                "name": "Sydney renewals",
                "reference": "PO-2041",
                "phone_column": "phone",
                "default_region": "AU",
            },
        ),
        **OPENAPI_HEADER,
    },
    responses={
        201: {"content": {"application/json": {"example": {**BATCH_EXAMPLE, **_IMPORTING}}}},
        409: _KEY_IN_PROGRESS,
        413: _TOO_LARGE,
    },
)
async def create_batch(request: Request, account: ApiAccount, gateway: GatewayDep) -> Any:
    async def create(upload: Upload) -> tuple[int, Any]:
        batch = await gateway.ingest.create_batch(account.id, upload.body, upload.content_type)
        log.info("batch_created", batch_id=batch.get("id"))
        return 201, with_client(batch, account)

    key = idempotency_key(request)
    if key is not None:
        return await upload_once(request, gateway, account, key, "batches", create)
    status, body = await create(await open_upload(request, gateway.settings.max_upload_bytes))
    return JSONResponse(body, status_code=status)


@router.get(
    "/batches", tags=["batches"], summary="Every batch, newest first", response_model=BatchList
)
async def list_batches(account: ApiAccount, gateway: GatewayDep) -> Any:
    batches = await gateway.ingest.list_batches(account.id)
    return JSONResponse({"batches": [with_client(batch, account) for batch in batches]})


@router.get("/batches/{batch_id}", tags=["batches"], summary="One batch", response_model=Batch)
async def get_batch(batch_id: str, account: ApiAccount, gateway: GatewayDep) -> Any:
    batch = await gateway.ingest.get_batch(account.id, checked_batch_id(batch_id))
    return JSONResponse(with_client(batch, account))


@router.patch(
    "/batches/{batch_id}",
    tags=["batches"],
    summary="Pause or unpause",
    response_model=Batch,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {**BATCH_EXAMPLE, "status": "paused", "paused": True}
                }
            }
        }
    },
)
async def patch_batch(
    batch_id: str,
    change: Annotated[BatchPatch, Body(openapi_examples=_PAUSE_EXAMPLES)],
    account: ApiAccount,
    gateway: GatewayDep,
) -> Any:
    batch = await gateway.ingest.set_paused(account.id, checked_batch_id(batch_id), change.paused)
    structlog.contextvars.bind_contextvars(batch_id=batch_id)
    log.info("batch_paused" if change.paused else "batch_unpaused")
    return JSONResponse(with_client(batch, account))


@router.get(
    "/batches/{batch_id}/download",
    tags=["batches"],
    summary="The batch as CSV, streamed (optionally only the leads processed on one day)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {"example": CSV_EXAMPLE}}},
        409: {
            "description": "The batch is still importing, or failed: nothing to download",
            "content": error_example(
                "not_imported", "The batch is importing: nothing to download."
            ),
        },
        410: {
            "description": "The batch is deleted",
            "content": error_example(
                "batch_deleted", "This batch was deleted under the 6-week retention policy."
            ),
        },
    },
)
async def download_batch(
    batch_id: str,
    account: ApiAccount,
    gateway: GatewayDep,
    processed_on: date | None = None,
) -> StreamingResponse:
    return await stream_download(gateway, account, batch_id, processed_on)


async def stream_download(
    gateway: Gateway,
    account: Account,
    batch_id: str,
    processed_on: date | None,
    tz: str | None = None,
) -> StreamingResponse:
    """Relay ingest's CSV to the client chunk by chunk; shared with the control panel.

    `processed_on` is a date in the zone `tz` (UTC when None, as the API has it).
    """
    batch_id = checked_batch_id(batch_id)
    upstream = await gateway.ingest.open_download(
        account.id, batch_id, processed_on.isoformat() if processed_on else None, tz
    )
    suffix = f"-{processed_on.isoformat()}" if processed_on else ""
    disposition = upstream.headers.get("content-disposition") or (
        f'attachment; filename="{batch_id}{suffix}.csv"'
    )
    return StreamingResponse(
        relay(upstream, "ingest"),
        media_type=upstream.headers.get("content-type", "text/csv; charset=utf-8"),
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
        background=BackgroundTask(upstream.aclose),
    )
