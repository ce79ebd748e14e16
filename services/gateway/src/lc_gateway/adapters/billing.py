"""The billing service's internal API: balance, transactions, purchases, receipts."""

from __future__ import annotations

from typing import Any

from lc_gateway.adapters.upstream import Upstream


class BillingClient:
    """Calls billing on behalf of one account at a time."""

    def __init__(self, upstream: Upstream) -> None:
        self._upstream = upstream

    async def balance(self, account_id: str) -> dict[str, Any]:
        """`{"account_id", "balance", "unit": "CU"}`."""
        result: dict[str, Any] = await self._upstream.call(
            "GET", "/internal/v1/balance", account_id
        )
        return result

    async def transactions(
        self, account_id: str, limit: int = 100, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the account's transactions, newest first, and the next page's cursor
        (None on the last page). Contract C4."""
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        result = await self._upstream.call(
            "GET", "/internal/v1/transactions", account_id, params=params
        )
        transactions: list[dict[str, Any]] = result.get("transactions", [])
        next_cursor = result.get("next_cursor")
        return transactions, str(next_cursor) if next_cursor else None

    async def price(self, account_id: str) -> dict[str, Any]:
        """`{"unit": "CU", "unit_price_cents", "currency"}`: the price of one unit."""
        result: dict[str, Any] = await self._upstream.call("GET", "/internal/v1/price", account_id)
        return result

    async def receipts(
        self, account_id: str, limit: int = 100, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the account's receipts (paid purchases), newest first, and the next
        page's cursor (None on the last page)."""
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        result = await self._upstream.call(
            "GET", "/internal/v1/receipts", account_id, params=params
        )
        receipts: list[dict[str, Any]] = result.get("receipts", [])
        next_cursor = result.get("next_cursor")
        return receipts, str(next_cursor) if next_cursor else None

    async def purchase(
        self, account_id: str, units: int, return_url: str, cancel_url: str | None = None
    ) -> dict[str, Any]:
        """Start a purchase: `{"purchase_id", "status", "checkout_url", ...}`; the browser
        comes back to `return_url` once paid, to `cancel_url` (default: the same) if not."""
        order: dict[str, Any] = {"units": units, "return_url": return_url}
        if cancel_url is not None:
            order["cancel_url"] = cancel_url
        result: dict[str, Any] = await self._upstream.call(
            "POST", "/internal/v1/purchases", account_id, json=order
        )
        return result
