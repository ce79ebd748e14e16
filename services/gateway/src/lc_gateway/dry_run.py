"""A dry run completed with its cost against billing's balance (contract C1; the rule:
`domain/cost.py`)."""

from __future__ import annotations

from typing import Any

from lc_gateway.adapters.billing import BillingClient
from lc_gateway.domain.cost import cost


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
