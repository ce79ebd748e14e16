"""`GET /internal/v1/transactions` pages (C4): newest first, each row once, stable under inserts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.support import serving

from lc_billing.adapters.store import BillingStore
from lc_billing.config import BillingSettings
from lc_billing.main import create_app
from lc_common.store import connect_mongo, database

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _row(account: str, row_id: str, created_at: datetime) -> dict[str, Any]:
    return {
        "_id": row_id,
        "account_id": account,
        "kind": "grant",
        "units": 1,
        "description": row_id,
        "status": "completed",
        "created_at": created_at,
    }


async def _all_pages(http: httpx.AsyncClient, limit: int, between: Any = None) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = (await http.get("/internal/v1/transactions", params=params)).json()
        assert len(answer["transactions"]) <= limit
        seen.extend(t["id"] for t in answer["transactions"])
        cursor = answer["next_cursor"]
        if cursor is None:
            return seen
        if between is not None:
            await between()


async def test_pages_cover_every_transaction_once_newest_first_even_with_inserts(
    billing_settings: BillingSettings,
) -> None:
    account = f"acc_{uuid.uuid4().hex[:8]}"
    client = connect_mongo(billing_settings)
    store = BillingStore(client, database(client, billing_settings))
    await store.ensure_indexes()
    # Seven rows, two pairs sharing a created_at: the _id breaks the tie.
    times = [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    times += [T0 + timedelta(minutes=3), T0 + timedelta(minutes=3), T0 + timedelta(minutes=4)]
    rows = [_row(account, f"grt_{index}", at) for index, at in enumerate(times)]
    await store.transactions.insert_many(rows)
    other = _row("acc_someone_else", "grt_foreign", T0 + timedelta(minutes=2))
    await store.transactions.insert_one(other)
    expected = [r["_id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["_id"]))][::-1]
    inserted = 0

    async def insert_newer() -> None:
        nonlocal inserted
        inserted += 1
        late = _row(account, f"grt_late_{inserted}", T0 + timedelta(hours=inserted))
        await store.transactions.insert_one(late)

    headers = {
        "X-LC-Internal-Token": billing_settings.internal_token.get_secret_value(),
        "X-LC-Account-Id": account,
    }
    app = create_app(billing_settings)
    async with (
        serving(app, billing_settings.http_port) as url,
        httpx.AsyncClient(base_url=url, headers=headers) as http,
    ):
        assert await _all_pages(http, 3, insert_newer) == expected
        assert inserted == 2
        everything = await _all_pages(http, 500)
        assert everything == ["grt_late_2", "grt_late_1", *expected]
        first = (await http.get("/internal/v1/transactions")).json()
        assert first["next_cursor"] is None and len(first["transactions"]) == 9
        for bad in ({"limit": 0}, {"limit": 501}, {"cursor": "not-a-cursor"}):
            refused = await http.get("/internal/v1/transactions", params=bad)
            assert refused.status_code == 422, bad
        price = (await http.get("/internal/v1/price")).json()
        assert price == {
            "unit": "CU",
            "unit_price_cents": billing_settings.unit_price_cents,
            "currency": billing_settings.currency,
        }
    await client.close()
