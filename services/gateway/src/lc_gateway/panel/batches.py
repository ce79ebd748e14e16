"""The Batches tab: every batch with its counters, pause/unpause, download."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lc_gateway.api.batches import checked_batch_id, stream_download, with_client
from lc_gateway.auth import GatewayDep
from lc_gateway.panel.common import PanelAccount, checked_form, flash, redirect, render

router = APIRouter(include_in_schema=False)

# The columns of DESIGN.md section 1, in order.
COLUMNS = (
    "Client",
    "Name",
    "Reference",
    "Batch Id",
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
    "Status",
    "Paused",
    "Download",
)
# A batch in one of these states can no longer be paused or unpaused.
SETTLED = frozenset({"finished", "failed", "deleted"})
REFRESH_SECONDS = 10


@router.get("/batches")
async def batches_page(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    batches = [with_client(b, account) for b in await gateway.ingest.list_batches(account.id)]
    context = {
        "columns": COLUMNS,
        "batches": batches,
        "settled": SETTLED,
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "batches.html", context, account=account)


@router.post("/batches/{batch_id}/pause")
async def pause(
    batch_id: str, request: Request, account: PanelAccount, gateway: GatewayDep
) -> Response:
    form = await checked_form(request)
    paused = form.get("paused") == "true"
    batch = await gateway.ingest.set_paused(account.id, checked_batch_id(batch_id), paused)
    name = batch.get("name") or batch_id
    flash(request, "ok", f"Batch {name} {'paused' if paused else 'resumed'}.")
    return redirect("/batches")


@router.get("/batches/{batch_id}/download")
async def download(
    batch_id: str,
    account: PanelAccount,
    gateway: GatewayDep,
    processed_on: date | None = None,
) -> Response:
    return await stream_download(gateway, account, batch_id, processed_on)
