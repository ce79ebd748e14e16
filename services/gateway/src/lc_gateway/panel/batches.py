"""The Batches tab: every batch with its counters (searched, a page at a time), the Paused
checkbox, downloads, and a page per batch (counters, per-day download, reject reasons)."""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from lc_gateway.api.batches import checked_batch_id, stream_download, with_client
from lc_gateway.bootstrap import Gateway
from lc_gateway.domain.accounts import Account
from lc_gateway.edge.auth import GatewayDep
from lc_gateway.edge.streams import relay
from lc_gateway.errors import GatewayError
from lc_gateway.panel import listing
from lc_gateway.panel.common import PanelAccount, checked_form, flash, redirect, render
from lc_gateway.panel.rejects import RejectSummary, summarise, text_lines

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)

# The columns of the seed list, in order.
COLUMNS = (
    "Client",
    "Name",
    "Reference",
    "Submitted",
    "Imported",
    "Accepted",
    "Connected",
    "Disconnected",
    "Indeterminate",
    "Retry",
    "Processed",
    "Remaining",
    "Finished",
    "Batch Id",
    "Status",
    "Paused",
    "Download",
)
COUNTERS = (
    "imported",
    "accepted",
    "connected",
    "disconnected",
    "indeterminate",
    "retry",
    "processed",
    "remaining",
)
# A batch in one of these states can no longer be paused or unpaused.
SETTLED = frozenset({"finished", "failed", "deleted"})
# Nothing to download yet, or any more.
NO_DOWNLOAD = frozenset({"importing", "failed", "deleted"})
REFRESH_SECONDS = 10


def _filters(request: Request) -> tuple[str, int]:
    query = request.query_params.get("q", "")[:200]
    page = request.query_params.get("page", "1")
    return query, int(page) if page.isdigit() and len(page) < 7 else 1


def _common(account: Account) -> dict[str, Any]:
    return {
        "settled": SETTLED,
        "no_download": NO_DOWNLOAD,
        "compact": listing.compact,
        "short_id": listing.short_id,
        "tz": account.time_zone,
    }


@router.get("/batches")
async def batches_page(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    query, number = _filters(request)
    batches = [with_client(b, account) for b in await gateway.ingest.list_batches(account.id)]
    page = listing.page_of(batches, query, number)
    context = {
        **_common(account),
        "columns": COLUMNS,
        "page": page,
        "query": query,
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "batches.html", context, account=account)


@router.post("/batches/{batch_id}/pause")
async def pause(
    batch_id: str, request: Request, account: PanelAccount, gateway: GatewayDep
) -> Response:
    """The Paused checkbox: `paused=true` when ticked; absent (unticked) unpauses.

    Answered with the batch as JSON to the page's script, with a redirect otherwise.
    """
    form = await checked_form(request)
    paused = form.get("paused") == "true"
    batch = await gateway.ingest.set_paused(account.id, checked_batch_id(batch_id), paused)
    structlog.contextvars.bind_contextvars(batch_id=batch_id)
    log.info("batch_paused" if paused else "batch_unpaused")
    if request.headers.get("x-requested-with") == "fetch":
        return JSONResponse(with_client(batch, account))
    name = batch.get("name") or batch_id
    flash(request, "ok", f"Batch {name}: {'pausing' if paused else 'resuming'}.")
    back = form.get("back", "")
    return redirect(back if back.startswith("/batches") and "//" not in back else "/batches")


@router.get("/batches/{batch_id}/download")
async def download(
    batch_id: str,
    account: PanelAccount,
    gateway: GatewayDep,
    processed_on: date | None = None,
) -> Response:
    """The CSV; `processed_on` is a day in the account's own time zone (contract C3)."""
    return await stream_download(gateway, account, batch_id, processed_on, account.time_zone)


async def _reject_summary(
    gateway: Gateway, account: Account, batch: dict[str, Any]
) -> RejectSummary | None:
    """Rejected rows by reason, read from the download; None when it cannot be read now."""
    if not batch.get("rejected") or batch.get("status") in NO_DOWNLOAD:
        return RejectSummary()
    try:
        upstream = await gateway.ingest.open_download(account.id, batch["id"], None)
    except GatewayError:
        return None
    try:
        lines = await text_lines(relay(upstream, "ingest"))
    finally:
        await upstream.aclose()
    return summarise(lines, batch.get("phone_column"))


@router.get("/batches/{batch_id}")
async def batch_page(
    batch_id: str, request: Request, account: PanelAccount, gateway: GatewayDep
) -> Response:
    batch = with_client(
        await gateway.ingest.get_batch(account.id, checked_batch_id(batch_id)), account
    )
    context = {
        **_common(account),
        "batch": batch,
        "counters": COUNTERS,
        "rejects": await _reject_summary(gateway, account, batch),
    }
    return render(request, "batch.html", context, account=account)
