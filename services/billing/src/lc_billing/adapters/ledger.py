"""The ledger's credits and reading: purchases, grants, balances and transactions.

A credit is the purchase's status change (or the grant's row) and the account's
totals in one transaction; when it gives an exhausted account a unit again, the
same account write records `restored` and queues its event in the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

from lc_billing.adapters.store import BillingStore, account_totals
from lc_billing.domain.reservations import state_after_credit
from lc_billing.metrics import CREDIT_RESTORED
from lc_common.events import CreditEventV1
from lc_common.outbox import outbox_entry
from lc_common.store import Document


class _NotPending(Exception):
    """Aborts a credit whose purchase is no longer pending, or whose event was applied
    already (nothing written, nothing to commit)."""


@dataclass(frozen=True)
class Balance:
    """What an account owns (credited - charged), holds for leads in flight, and can reserve."""

    balance: int
    reserved: int
    available: int


def epoch_ms(moment: datetime) -> int:
    """`moment` in whole milliseconds since the epoch (the store keeps milliseconds)."""
    return int(moment.timestamp() * 1000)


class MongoLedger:
    """Credits and reading of every account."""

    def __init__(self, store: BillingStore) -> None:
        self._store = store

    async def create_purchase(self, purchase: Document) -> None:
        """Record a pending purchase (the `transactions` row shape, kind `purchase`)."""
        await self._store.transactions.insert_one(purchase)

    async def attach_checkout(self, purchase_id: str, session_id: str, checkout_url: str) -> None:
        """Remember the provider's session of a purchase (its webhook names it)."""
        await self._store.transactions.update_one(
            {"_id": purchase_id},
            {"$set": {"provider_session_id": session_id, "checkout_url": checkout_url}},
        )

    async def purchase(self, purchase_id: str) -> Document | None:
        return await self._store.transactions.find_one({"_id": purchase_id, "kind": "purchase"})

    async def complete_purchase(
        self, purchase: Document, event_id: str, receipt: Document, now: datetime
    ) -> bool:
        """Apply a paid checkout once: mark the provider's event applied, the pending
        purchase paid, credit its units and keep its receipt, in one transaction.

        False (nothing written) if this event was applied before or the purchase is no
        longer pending (paid by another event, or cancelled): idempotent on both keys.
        """
        query = {"_id": purchase["_id"], "kind": "purchase", "status": "pending"}
        update = {"$set": {"status": "paid", "paid_at": now, "updated_at": now}}
        marker = {"_id": event_id, "purchase_id": purchase["_id"], "applied_at": now}

        async def work(session: AsyncClientSession) -> None:
            if await self._store.payment_events.find_one({"_id": event_id}, session=session):
                raise _NotPending
            await self._store.payment_events.insert_one(marker, session=session)
            result = await self._store.transactions.update_one(query, update, session=session)
            if result.modified_count == 0:
                raise _NotPending
            await self._credit(purchase["account_id"], purchase["units"], session)
            await self._store.receipts.insert_one(receipt, session=session)

        try:
            await self._store.in_transaction(work)
        except _NotPending:
            return False
        return True

    async def cancel_purchase(self, purchase_id: str, now: datetime) -> bool:
        """Mark a pending purchase cancelled; False if it was not pending."""
        result = await self._store.transactions.update_one(
            {"_id": purchase_id, "kind": "purchase", "status": "pending"},
            {"$set": {"status": "cancelled", "updated_at": now}},
        )
        return result.modified_count == 1

    async def grant(self, row: Document) -> None:
        """Record a grant transaction and credit its units."""

        async def work(session: AsyncClientSession) -> None:
            await self._store.transactions.insert_one(row, session=session)
            await self._credit(row["account_id"], row["units"], session)

        await self._store.in_transaction(work)

    async def _credit(self, account_id: str, units: int, session: AsyncClientSession) -> None:
        account = await self._store.open_account(account_id, session)
        balance, _, available = account_totals(account)
        published = account.get("published_state", "restored")
        update: Document = {"$inc": {"credited": units, "available": units}}
        if state_after_credit(published, available + units) is not None:
            event = CreditEventV1(account_id=account_id, kind="restored", balance=balance + units)
            update["$set"] = {"published_state": "restored"}
            update["$push"] = {"outbox": outbox_entry(event, account_id)}
        await self._store.accounts.update_one(
            {"_id": account_id, "published_state": published}, update, session=session
        )
        if "$push" in update:
            # Counted when the transaction may still retry; close enough for an operator.
            CREDIT_RESTORED.inc()

    async def balance(self, account_id: str) -> Balance:
        """The account's balance, reserved and available units (zeros for an unknown account)."""
        doc = await self._store.accounts.find_one({"_id": account_id})
        return Balance(*account_totals(doc))

    async def credit_state(self, account_id: str) -> str:
        """The credit state last announced for the account (`restored` for a new one)."""
        doc = await self._store.accounts.find_one({"_id": account_id})
        return str((doc or {}).get("published_state", "restored"))

    async def transactions(
        self, account_id: str, limit: int = 500, after: tuple[datetime, str] | None = None
    ) -> list[Document]:
        """The account's transactions, newest first (by `created_at`, then `_id`).

        `after` is the `(created_at, _id)` of the last row of the previous page: the
        page starts just after it, so rows inserted meanwhile (newer) never shift it.
        """
        return await self._page(self._store.transactions, "created_at", account_id, limit, after)

    async def receipts(
        self, account_id: str, limit: int = 100, after: tuple[datetime, str] | None = None
    ) -> list[Document]:
        """The account's receipts, newest first (by `paid_at`, then `_id`), paged as
        `transactions` is (`after` is the last row's `(paid_at, _id)`).

        Ordered by `paid_at_ms`, the same moment in whole milliseconds: nx-27017 (the
        local store) compares datetimes to the second, which would repeat or skip
        receipts paid within one second.
        """
        key = None if after is None else (epoch_ms(after[0]), after[1])
        return await self._page(self._store.receipts, "paid_at_ms", account_id, limit, key)

    async def _page(
        self,
        collection: AsyncCollection[Document],
        time_field: str,
        account_id: str,
        limit: int,
        after: tuple[Any, str] | None,
    ) -> list[Document]:
        query: Document = {"account_id": account_id}
        if after is not None:
            moment, row_id = after
            query["$or"] = [
                {time_field: {"$lt": moment}},
                {time_field: moment, "_id": {"$lt": row_id}},
            ]
        cursor = (
            collection.find(query)
            .sort([(time_field, DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return await cursor.to_list()
