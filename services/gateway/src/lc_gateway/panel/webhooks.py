"""Webhooks in the control panel: the account's endpoints (add with the events to send,
delete), the signing secret shown once, and the recent deliveries with their outcomes."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lc_gateway.domain.accounts import Account
from lc_gateway.edge.auth import GatewayDep, require_owner
from lc_gateway.errors import UpstreamRejected
from lc_gateway.panel.common import PanelAccount, checked_form, flash, redirect, render

router = APIRouter(include_in_schema=False)

EVENTS = {
    "batch.finished": "A batch finished",
    "batch.daily_summary": "Daily summary of the leads processed",
    "batch.paused_no_credit": "A batch paused for lack of credit",
    "credit.low": "Credit ran out",
}
_WEBHOOK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


async def _page(
    request: Request,
    account: Account,
    gateway: GatewayDep,
    *,
    secret: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    webhooks = await gateway.notifier.webhooks(account.id)
    deliveries = await gateway.notifier.deliveries(account.id, None, 50)
    urls = {w["id"]: w["url"] for w in webhooks}
    context = {
        "webhooks": webhooks,
        "deliveries": deliveries,
        "urls": urls,
        "events": EVENTS,
        "secret": secret,
        "error": error,
    }
    return render(request, "webhooks.html", context, account=account, status_code=status_code)


@router.get("/webhooks")
async def webhooks_page(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    return await _page(request, account, gateway)


@router.post("/webhooks")
async def add_webhook(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    await checked_form(request)
    require_owner(request)
    form = await request.form()
    url = str(form.get("url") or "").strip()
    events = [str(e) for e in form.getlist("events") if str(e) in EVENTS]
    if not url or not events:
        error = "Give the URL and at least one event."
        return await _page(request, account, gateway, error=error, status_code=422)
    try:
        created = await gateway.notifier.create_webhook(account.id, url, events)
    except UpstreamRejected as exc:
        return await _page(request, account, gateway, error=exc.message, status_code=exc.status)
    # Rendered rather than redirected: the secret exists in clear only in this answer.
    return await _page(request, account, gateway, secret=str(created["secret"]), status_code=201)


@router.post("/webhooks/{webhook_id}/delete")
async def delete_webhook(
    webhook_id: str, request: Request, account: PanelAccount, gateway: GatewayDep
) -> Response:
    await checked_form(request)
    require_owner(request)
    if not _WEBHOOK_ID.match(webhook_id):
        raise UpstreamRejected(
            "no such webhook in this account", status=404, code="webhook_not_found"
        )
    await gateway.notifier.delete_webhook(account.id, webhook_id)
    flash(request, "ok", "The webhook is deleted; nothing more is sent to it.")
    return redirect("/webhooks")
