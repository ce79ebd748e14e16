"""The billing service's internal API: balance, transactions, purchases."""

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

    async def transactions(self, account_id: str) -> list[dict[str, Any]]:
        """Every transaction of the account, newest first."""
        result = await self._upstream.call("GET", "/internal/v1/transactions", account_id)
        transactions: list[dict[str, Any]] = result.get("transactions", [])
        return transactions

    async def purchase(self, account_id: str, units: int, return_url: str) -> dict[str, Any]:
        """Start a purchase: `{"purchase_id", "status", "checkout_url"}`."""
        result: dict[str, Any] = await self._upstream.call(
            "POST",
            "/internal/v1/purchases",
            account_id,
            json={"units": units, "return_url": return_url},
        )
        return result
