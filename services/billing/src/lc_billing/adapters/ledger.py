"""The ledger in MongoDB: balances, charge markers and transactions.

Collections:
- `accounts`: `{_id: account id, credited, charged, published_state}`; balance = credited - charged.
- `charges`: one marker per charged lead, `_id` = lead id: the idempotency key of a deduction.
- `transactions`: what the Billing tab lists — purchases, one growing deduction row per
  batch, grants.

Where the store runs multi-document transactions (a replica set, nx-27017), a charge
is the marker, the batch row and the balance in one transaction, and a credit is the
purchase's status change and the balance in one. Where it does not (a standalone
mongod), the marker or status change is written first and the totals are then
re-derived from them with `$max`: monotonic, so a crash between the steps is healed
by the redelivery or the replayed webhook that follows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import structlog
from pymongo import DESCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from lc_billing.domain import CreditState, deduction_id
from lc_common.events import LeadVerdictV1
from lc_common.store import Document

log = structlog.get_logger(__name__)


class _NotPending(Exception):
    """Aborts a credit whose purchase is no longer pending (nothing written, nothing to commit)."""


_NEW_ACCOUNT = {"published_state": "restored"}
_CREDITED = {"$or": [{"kind": "grant"}, {"kind": "purchase", "status": "paid"}]}


async def supports_transactions(
    client: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> bool:
    """True if the store commits a multi-document transaction (tried, not guessed).

    The probe writes: nx-27017 refuses to commit a transaction that only read.
    """
    try:
        async with client.start_session() as session, await session.start_transaction():
            await db["capabilities"].update_one(
                {"_id": "transactions"}, {"$set": {"probed": True}}, upsert=True, session=session
            )
    except PyMongoError as exc:
        log.warning("store_without_transactions", error=repr(exc))
        return False
    return True


class MongoLedger:
    """Balances and transactions of every account."""

    def __init__(
        self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], *, transactions: bool
    ) -> None:
        self._client = client
        self._accounts = db["accounts"]
        self._charges = db["charges"]
        self._transactions = db["transactions"]
        self.uses_transactions = transactions
        # One transaction at a time per process: nx-27017 (the local store) mixes up
        # concurrent transactions ("no such savepoint"). Real MongoDB would not need it;
        # billing's transactions are a few small writes, so the cost is small.
        self._one_transaction = asyncio.Lock()

    async def ensure_indexes(self) -> None:
        await self._transactions.create_index([("account_id", 1), ("created_at", DESCENDING)])
        await self._charges.create_index([("account_id", 1)])
        await self._charges.create_index([("batch_id", 1)])

    async def _in_transaction(self, work: Callable[[AsyncClientSession], Awaitable[Any]]) -> Any:
        async with self._one_transaction, self._client.start_session() as session:
            return await session.with_transaction(work)

    # -- deductions ---------------------------------------------------------------------

    async def charge(self, verdict: LeadVerdictV1, now: datetime) -> bool:
        """Deduct one unit for the verdict's lead unless it was charged before; True if charged."""
        marker = {
            "_id": verdict.lead_id,
            "account_id": verdict.account_id,
            "batch_id": verdict.batch_id,
            "event_id": str(verdict.event_id),
            "charged_at": now,
        }
        row_insert = {
            "account_id": verdict.account_id,
            "kind": "deduction",
            "batch_id": verdict.batch_id,
            "description": f"Cleansing of batch {verdict.batch_id}",
            "status": "completed",
            "created_at": now,
        }
        if self.uses_transactions:

            async def work(session: AsyncClientSession) -> None:
                await self._charges.insert_one(marker, session=session)
                await self._transactions.update_one(
                    {"_id": deduction_id(verdict.batch_id)},
                    {"$inc": {"units": 1}, "$set": {"updated_at": now}, "$setOnInsert": row_insert},
                    upsert=True,
                    session=session,
                )
                await self._accounts.update_one(
                    {"_id": verdict.account_id},
                    {"$inc": {"charged": 1}, "$setOnInsert": {**_NEW_ACCOUNT, "credited": 0}},
                    upsert=True,
                    session=session,
                )

            try:
                await self._in_transaction(work)
            except DuplicateKeyError:
                return False
            return True

        try:
            await self._charges.insert_one(marker)
            charged = True
        except DuplicateKeyError:
            charged = False
        # Re-derived even for a duplicate: it heals a crash after the marker was written.
        units = await self._charges.count_documents({"batch_id": verdict.batch_id})
        await self._transactions.update_one(
            {"_id": deduction_id(verdict.batch_id)},
            {"$max": {"units": units}, "$set": {"updated_at": now}, "$setOnInsert": row_insert},
            upsert=True,
        )
        total = await self._charges.count_documents({"account_id": verdict.account_id})
        await self._accounts.update_one(
            {"_id": verdict.account_id},
            {"$max": {"charged": total}, "$setOnInsert": {**_NEW_ACCOUNT, "credited": 0}},
            upsert=True,
        )
        return charged

    # -- credits ------------------------------------------------------------------------

    async def create_purchase(self, purchase: Document) -> None:
        """Record a pending purchase (the `transactions` row shape, kind `purchase`)."""
        await self._transactions.insert_one(purchase)

    async def attach_checkout(self, purchase_id: str, session_id: str, checkout_url: str) -> None:
        await self._transactions.update_one(
            {"_id": purchase_id},
            {"$set": {"provider_session_id": session_id, "checkout_url": checkout_url}},
        )

    async def purchase(self, purchase_id: str) -> Document | None:
        return await self._transactions.find_one({"_id": purchase_id, "kind": "purchase"})

    async def complete_purchase(self, purchase: Document, now: datetime) -> bool:
        """Mark a pending purchase paid and credit its units; False if it was not pending."""
        query = {"_id": purchase["_id"], "kind": "purchase", "status": "pending"}
        update = {"$set": {"status": "paid", "paid_at": now, "updated_at": now}}
        account_id = purchase["account_id"]
        if self.uses_transactions:

            async def work(session: AsyncClientSession) -> None:
                result = await self._transactions.update_one(query, update, session=session)
                if result.modified_count == 0:
                    raise _NotPending
                await self._credit(account_id, purchase["units"], session)

            try:
                await self._in_transaction(work)
            except _NotPending:
                return False
            return True
        result = await self._transactions.update_one(query, update)
        await self._rederive_credited(account_id)
        return result.modified_count == 1

    async def cancel_purchase(self, purchase_id: str, now: datetime) -> bool:
        """Mark a pending purchase cancelled; False if it was not pending."""
        result = await self._transactions.update_one(
            {"_id": purchase_id, "kind": "purchase", "status": "pending"},
            {"$set": {"status": "cancelled", "updated_at": now}},
        )
        return result.modified_count == 1

    async def grant(self, row: Document) -> None:
        """Record a grant transaction and credit its units."""
        if self.uses_transactions:

            async def work(session: AsyncClientSession) -> None:
                await self._transactions.insert_one(row, session=session)
                await self._credit(row["account_id"], row["units"], session)

            await self._in_transaction(work)
            return
        await self._transactions.insert_one(row)
        await self._rederive_credited(row["account_id"])

    async def _credit(self, account_id: str, units: int, session: AsyncClientSession) -> None:
        await self._accounts.update_one(
            {"_id": account_id},
            {"$inc": {"credited": units}, "$setOnInsert": {**_NEW_ACCOUNT, "charged": 0}},
            upsert=True,
            session=session,
        )

    async def _rederive_credited(self, account_id: str) -> None:
        cursor = await self._transactions.aggregate(
            [
                {"$match": {"account_id": account_id, **_CREDITED}},
                {"$group": {"_id": None, "units": {"$sum": "$units"}}},
            ]
        )
        rows = await cursor.to_list()
        credited = int(rows[0]["units"]) if rows else 0
        await self._accounts.update_one(
            {"_id": account_id},
            {"$max": {"credited": credited}, "$setOnInsert": {**_NEW_ACCOUNT, "charged": 0}},
            upsert=True,
        )

    # -- reading and the published credit state -----------------------------------------

    async def credit_status(self, account_id: str) -> tuple[int, CreditState]:
        """The balance and the credit state last announced on `billing.events`."""
        doc = await self._accounts.find_one({"_id": account_id})
        if doc is None:
            return 0, "restored"
        balance = int(doc.get("credited", 0)) - int(doc.get("charged", 0))
        return balance, doc.get("published_state", "restored")

    async def balance(self, account_id: str) -> int:
        return (await self.credit_status(account_id))[0]

    async def mark_published(self, account_id: str, old: CreditState, new: CreditState) -> bool:
        """Record that `new` was announced, if nobody recorded anything since `old`."""
        query: Document = {"_id": account_id, "published_state": old}
        result = await self._accounts.update_one(query, {"$set": {"published_state": new}})
        return result.modified_count == 1

    async def transactions(self, account_id: str, limit: int = 500) -> list[Document]:
        """The account's transactions, newest first."""
        cursor = (
            self._transactions.find({"account_id": account_id})
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return await cursor.to_list()
