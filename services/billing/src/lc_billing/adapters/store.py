"""Billing's collections and the one way it writes them: a multi-document transaction.

Collections:
- `accounts`: `{_id: account id, credited, charged, reserved, available,
  published_state, outbox}`. `available = credited - charged - reserved` is kept as
  a field so that taking a unit is one conditional `$inc` (`available >= n`);
  `outbox` holds the credit events written with the state they announce
  (`lc_common.outbox`).
- `reservations`: one per lead, `_id` = lead id (`lc_billing.domain.reservations` statuses).
- `charges`: one marker per charged lead, `_id` = lead id: the idempotency key of a charge.
- `transactions`: what the Billing tab lists — purchases, one growing deduction row per
  batch, grants.
- `payment_events`: one marker per provider event applied (`_id` = Stripe event id), so a
  redelivered event changes nothing.
- `receipts`: one per paid purchase (`_id` = purchase id): amount, currency, units, the
  provider's session, when it was paid.

A reservation, a charge or a credit changes a lead's document and its account's
totals together, so billing needs a store that commits multi-document transactions
(a replica set in production, nx-27017 locally).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from pymongo import DESCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from lc_common.store import Document

log = structlog.get_logger(__name__)

T = TypeVar("T")

_NEW_ACCOUNT: Document = {
    "credited": 0,
    "charged": 0,
    "reserved": 0,
    "available": 0,
    "published_state": "restored",
    "outbox": [],
}


class StoreWithoutTransactions(RuntimeError):
    """The store does not commit multi-document transactions; billing cannot keep its invariants."""


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


class BillingStore:
    """The collections, and transactions over them."""

    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document]) -> None:
        self.client = client
        self.accounts = db["accounts"]
        self.reservations = db["reservations"]
        self.charges = db["charges"]
        self.transactions = db["transactions"]
        self.payment_events = db["payment_events"]
        self.receipts = db["receipts"]
        # One transaction at a time per process: nx-27017 (the local store) mixes up
        # concurrent transactions ("no such savepoint"). Across replicas on MongoDB, a
        # write conflict on the account document aborts one and `with_transaction`
        # retries it, re-reading what the other committed.
        self._one_transaction = asyncio.Lock()

    async def ensure_indexes(self) -> None:
        await self.transactions.create_index([("account_id", 1), ("created_at", DESCENDING)])
        await self.charges.create_index([("account_id", 1)])
        await self.receipts.create_index([("account_id", 1), ("paid_at_ms", DESCENDING)])
        # Also creates the collection up front: nx-27017 cannot create one inside a
        # transaction (its commit then fails with "No session specified").
        await self.payment_events.create_index([("purchase_id", 1)])
        await self.charges.create_index([("batch_id", 1)])
        await self.reservations.create_index([("batch_id", 1), ("status", 1)])
        await self.reservations.create_index([("status", 1), ("check_after", 1)])

    async def in_transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        """Run `work` in one transaction (retried whole on a transient error); its result."""
        async with self._one_transaction, self.client.start_session() as session:
            result: T = await session.with_transaction(work)
            return result

    async def open_account(self, account_id: str, session: AsyncClientSession) -> Document:
        """The account's document, created empty if new; older documents get their
        `reserved` and `available` fields (nothing was reserved before reservations)."""
        await self.accounts.update_one(
            {"_id": account_id}, {"$setOnInsert": _NEW_ACCOUNT}, upsert=True, session=session
        )
        doc = await self.accounts.find_one({"_id": account_id}, session=session)
        assert doc is not None
        if "available" not in doc:
            available = int(doc.get("credited", 0)) - int(doc.get("charged", 0))
            await self.accounts.update_one(
                {"_id": account_id},
                {"$set": {"available": available, "reserved": 0}},
                session=session,
            )
            doc = {**doc, "available": available, "reserved": 0}
        return doc


def account_totals(doc: Document | None) -> tuple[int, int, int]:
    """(balance, reserved, available) of an account document (zeros for none).

    The balance is what the client owns: credited - charged.
    """
    if doc is None:
        return 0, 0, 0
    balance = int(doc.get("credited", 0)) - int(doc.get("charged", 0))
    reserved = int(doc.get("reserved", 0))
    return balance, reserved, int(doc.get("available", balance - reserved))
