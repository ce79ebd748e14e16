"""The Mongo ledger, with and without multi-document transactions, against the real store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from tests.integration.billing.support import verdict

from lc_billing.adapters.ledger import MongoLedger, supports_transactions
from lc_billing.config import BillingSettings
from lc_common.store import connect_mongo, database

pytestmark = [pytest.mark.mongo]
NOW = datetime(2025, 3, 3, 9, tzinfo=UTC)


@pytest.fixture(params=[True, False], ids=["transactions", "derived"])
async def ledger(
    request: pytest.FixtureRequest, service_env: dict[str, str]
) -> AsyncIterator[MongoLedger]:
    settings = BillingSettings()
    client = connect_mongo(settings)
    db = database(client, settings)
    if request.param and not await supports_transactions(client, db):
        pytest.skip("the store runs no transactions")
    ledger = MongoLedger(client, db, transactions=request.param)
    await ledger.ensure_indexes()
    yield ledger
    await client.close()


async def test_concurrent_and_repeated_charges_count_each_lead_once(ledger: MongoLedger) -> None:
    events = [verdict("acc_1", "bat_1", row) for row in range(1, 6)]
    results = await asyncio.gather(
        *(ledger.charge(e, NOW) for e in [*events, *events, events[0]]), return_exceptions=True
    )
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert sum(1 for r in results if r is True) == 5
    assert await ledger.balance("acc_1") == -5
    rows = await ledger.transactions("acc_1")
    assert [(r["_id"], r["units"]) for r in rows] == [("ded_bat_1", 5)]


async def test_a_purchase_is_credited_once(ledger: MongoLedger) -> None:
    row = {
        "_id": "pur_1",
        "account_id": "acc_1",
        "kind": "purchase",
        "units": 40,
        "status": "pending",
        "amount_cents": 200,
        "currency": "AUD",
        "created_at": NOW,
    }
    await ledger.create_purchase(row)
    first, again = (
        await ledger.complete_purchase(row, NOW),
        await ledger.complete_purchase(row, NOW),
    )
    assert (first, again) == (True, False)
    grant = {"_id": "grt_1", "account_id": "acc_1", "kind": "grant", "units": 2, "created_at": NOW}
    await ledger.grant(grant)
    assert await ledger.balance("acc_1") == 42
    assert await ledger.credit_status("acc_1") == (42, "restored")
    assert await ledger.mark_published("acc_1", "restored", "exhausted")
    assert not await ledger.mark_published("acc_1", "restored", "exhausted")
