"""The Billing tab: balance, every transaction a page at a time (and as CSV), receipts, Buy
Credit with its price and a confirmation of the total before Stripe Checkout, and the return
from the payment page."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from lc_gateway.api.billing import CANCEL_PATH, RETURN_PATH
from lc_gateway.bootstrap import Gateway
from lc_gateway.domain.accounts import Account
from lc_gateway.edge.auth import GatewayDep
from lc_gateway.panel.common import PanelAccount, checked_form, flash, local_time, redirect, render
from lc_gateway.panel.users import PanelOwner

router = APIRouter(include_in_schema=False)

MAX_UNITS = 10_000_000
PAGE_SIZE = 50
RECEIPTS_SHOWN = 20
EXPORT_PAGE = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_COLUMNS = ("created_at", "kind", "description", "batch_id", "status", "units", "id")


@router.get("/billing")
async def billing_page(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    cursor = request.query_params.get("cursor") or None
    balance, (transactions, next_cursor), price, (receipts, more_receipts) = await asyncio.gather(
        gateway.billing.balance(account.id),
        gateway.billing.transactions(account.id, PAGE_SIZE, cursor),
        gateway.billing.price(account.id),
        gateway.billing.receipts(account.id, RECEIPTS_SHOWN),
    )
    context = {
        "balance": balance,
        "transactions": transactions,
        "next_cursor": next_cursor,
        "first_page": cursor is None,
        "price": price,
        "receipts": receipts,
        "more_receipts": more_receipts is not None,
        "checkout_cancelled": request.query_params.get("checkout") == "cancelled",
    }
    return render(request, "billing.html", context, account=account)


def _csv_line(values: list[Any]) -> bytes:
    out = io.StringIO()
    # Text a spreadsheet would run as a formula is quoted; numbers are left alone.
    csv.writer(out).writerow(
        [f"'{v}" if isinstance(v, str) and v[:1] in FORMULA_STARTS else v for v in values]
    )
    return out.getvalue().encode()


async def export_rows(gateway: Gateway, account: Account) -> AsyncIterator[bytes]:
    """Every transaction as CSV lines, header first, fetched from billing a page at a time."""
    yield _csv_line(list(EXPORT_COLUMNS))
    cursor: str | None = None
    while True:
        rows, cursor = await gateway.billing.transactions(account.id, EXPORT_PAGE, cursor)
        for row in rows:
            values = [row.get(column) for column in EXPORT_COLUMNS]
            values[0] = local_time(row.get("created_at"), account.time_zone)
            if row.get("kind") == "deduction":
                values[5] = -int(row.get("units") or 0)
            yield _csv_line(["" if v is None else v for v in values])
        if cursor is None:
            return


@router.get("/billing/transactions.csv")
async def export(account: PanelAccount, gateway: GatewayDep) -> Response:
    """Every transaction (all pages), streamed as CSV; times in the account's time zone."""
    return StreamingResponse(
        export_rows(gateway, account),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="transactions.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/billing/buy")
async def buy(request: Request, account: PanelOwner, gateway: GatewayDep) -> Response:
    """Buy Credit in two steps: the units typed are shown with the unit price and the total
    to confirm; the confirmed form starts the purchase and sends the browser to Stripe."""
    form = await checked_form(request)
    units_text = form.get("units", "").strip()
    if not units_text.isdigit() or not 0 < int(units_text) <= MAX_UNITS:
        flash(request, "error", f"Enter a whole number of units between 1 and {MAX_UNITS}.")
        return redirect("/billing")
    units = int(units_text)
    if form.get("confirm") != "yes":
        price = await gateway.billing.price(account.id)
        context = {"units": units, "price": price, "total_cents": units * price["unit_price_cents"]}
        return render(request, "billing_confirm.html", context, account=account)
    base = gateway.settings.public_url.rstrip("/")
    purchase = await gateway.billing.purchase(
        account.id, units, base + RETURN_PATH, base + CANCEL_PATH
    )
    # Card details are entered on the provider's hosted page, never here.
    return redirect(purchase["checkout_url"])


@router.get(RETURN_PATH)
async def returned(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    balance = await gateway.billing.balance(account.id)
    return render(request, "billing_return.html", {"balance": balance}, account=account)
