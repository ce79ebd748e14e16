"""The Billing tab: balance, transactions, Buy Credit and the return from the payment page."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lc_gateway.api.billing import RETURN_PATH
from lc_gateway.auth import GatewayDep
from lc_gateway.panel.common import PanelAccount, checked_form, flash, redirect, render

router = APIRouter(include_in_schema=False)

MAX_UNITS = 10_000_000


@router.get("/billing")
async def billing_page(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    balance, transactions = await asyncio.gather(
        gateway.billing.balance(account.id), gateway.billing.transactions(account.id)
    )
    context = {"balance": balance, "transactions": transactions}
    return render(request, "billing.html", context, account=account)


@router.post("/billing/buy")
async def buy(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    form = await checked_form(request)
    units_text = form.get("units", "").strip()
    if not units_text.isdigit() or not 0 < int(units_text) <= MAX_UNITS:
        flash(request, "error", f"Enter a whole number of units between 1 and {MAX_UNITS}.")
        return redirect("/billing")
    return_url = gateway.settings.public_url.rstrip("/") + RETURN_PATH
    purchase = await gateway.billing.purchase(account.id, int(units_text), return_url)
    # Card details are entered on the provider's hosted page, never here.
    return redirect(purchase["checkout_url"])


@router.get(RETURN_PATH)
async def returned(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    balance = await gateway.billing.balance(account.id)
    return render(request, "billing_return.html", {"balance": balance}, account=account)
