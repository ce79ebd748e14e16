"""The cost of a dry run: what an import would take from the account's credit (contract C1)."""

from __future__ import annotations

from typing import Any

from lc_gateway.adapters.billing import BillingClient


def cost(accepted: int, available: int) -> dict[str, int]:
    """`{"units", "balance", "short_by"}`: one unit per accepted row against what is available."""
    units = max(accepted, 0)
    return {"units": units, "balance": available, "short_by": max(units - available, 0)}


async def with_cost(
    billing: BillingClient, account_id: str, preview: dict[str, Any]
) -> dict[str, Any]:
    """The preview, its `dry_run` (when there is one) completed with the `cost`.

    The balance is billing's `available` (credit not held for leads in flight), the
    units new leads can actually use; `balance` where billing gives no `available`.
    """
    dry_run = preview.get("dry_run")
    if not isinstance(dry_run, dict):
        return preview
    held = await billing.balance(account_id)
    available = int(held.get("available", held.get("balance", 0)))
    return {**preview, "dry_run": {**dry_run, "cost": cost(int(dry_run["accepted"]), available)}}
