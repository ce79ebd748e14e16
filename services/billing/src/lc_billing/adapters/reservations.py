"""Reservations and their settlement in MongoDB, each a transaction with the account's totals.

Taking units is one conditional `$inc` on the account (`available >= n`) inside the
transaction that also writes the reservations, so however many requests, replicas
or batches race, an account's available units never go below zero. A charge is
keyed by its marker in `charges` (`_id` = lead id), so a replayed verdict or a
reconciler that heals the same lead charges it once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from lc_billing.adapters.store import BillingStore, account_totals
from lc_billing.domain import deduction_id
from lc_billing.domain.reservations import (
    SETTLED,
    ReservationPlan,
    plan_reservations,
    state_after_refusal,
)
from lc_common.events import CreditEventV1
from lc_common.outbox import outbox_entry
from lc_common.store import Document, to_store_time

ChargeOutcome = Literal["charged", "charged_unreserved", "duplicate", "written_off"]
RELEASE_CHUNK = 1000
T = TypeVar("T")


@dataclass(frozen=True)
class LeadRef:
    """A lead and what it belongs to."""

    lead_id: str
    account_id: str
    batch_id: str


@dataclass(frozen=True)
class ReserveResult:
    """What a reservation request got, the units left, and whether it exhausted the account."""

    plan: ReservationPlan
    available: int
    exhausted: bool


class ForeignLead(Exception):
    """A lead whose reservation belongs to another account: never settled against this one."""


class _AlreadyCharged(Exception):
    """Aborts a charge whose marker exists: the lead was charged (or written off) before."""


class _Conflict(Exception):
    """The account changed under a transaction (cannot happen in one); retried by the caller."""


class MongoReservations:
    """Reserve, release, charge and free units for leads."""

    def __init__(self, store: BillingStore, reconcile_after: timedelta) -> None:
        self._store = store
        self._reconcile_after = reconcile_after

    async def reserve(
        self, account_id: str, leads: Sequence[tuple[str, str]], now: datetime
    ) -> ReserveResult:
        """Hold a unit for each `(lead_id, batch_id)` that credit allows (see `plan_reservations`).

        A refusal on an account not yet exhausted records `exhausted` and queues its
        event in the same account write.
        """
        batch_of = dict(leads)
        ids = list(batch_of)

        async def work(session: AsyncClientSession) -> ReserveResult:
            account = await self._store.open_account(account_id, session)
            balance, _, available = account_totals(account)
            statuses = {
                d["_id"]: d["status"]
                async for d in self._store.reservations.find(
                    {"_id": {"$in": ids}}, {"status": 1}, session=session
                )
            }
            charged = [
                d["_id"]
                async for d in self._store.charges.find(
                    {"_id": {"$in": ids}}, {"_id": 1}, session=session
                )
            ]
            plan = plan_reservations(ids, statuses, charged, available)
            published = account.get("published_state", "restored")
            due = state_after_refusal(published, len(plan.refused))
            granted = len(plan.granted)
            if granted or due:
                update: Document = {"$inc": {"available": -granted, "reserved": granted}}
                if due:
                    event = CreditEventV1(account_id=account_id, kind=due, balance=balance)
                    update["$set"] = {"published_state": due}
                    update["$push"] = {"outbox": outbox_entry(event, account_id)}
                result = await self._store.accounts.update_one(
                    {
                        "_id": account_id,
                        "available": {"$gte": granted},
                        "published_state": published,
                    },
                    update,
                    session=session,
                )
                if result.modified_count != 1:
                    raise _Conflict(account_id)
            await self._open(account_id, plan.granted, batch_of, statuses, now, session)
            return ReserveResult(plan, available - granted, due is not None)

        return await self._retrying(work)

    async def _open(
        self,
        account_id: str,
        lead_ids: list[str],
        batch_of: dict[str, str],
        statuses: dict[str, str],
        now: datetime,
        session: AsyncClientSession,
    ) -> None:
        fields = {
            "status": "open",
            "reserved_at": to_store_time(now),
            "check_after": to_store_time(now + self._reconcile_after),
        }
        fresh = [lead for lead in lead_ids if lead not in statuses]
        if fresh:
            await self._store.reservations.insert_many(
                [
                    {"_id": lead, "account_id": account_id, "batch_id": batch_of[lead], **fields}
                    for lead in fresh
                ],
                session=session,
            )
        again = [lead for lead in lead_ids if lead in statuses]
        if again:  # released earlier (their batch was given up), reserved anew
            await self._store.reservations.update_many(
                {"_id": {"$in": again}, "status": "released"}, {"$set": fields}, session=session
            )

    async def _retrying(
        self, work: Callable[[AsyncClientSession], Awaitable[T]], attempts: int = 5
    ) -> T:
        for attempt in range(1, attempts + 1):
            try:
                return await self._store.in_transaction(work)
            except _Conflict:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    async def release(
        self, now: datetime, *, lead_ids: Sequence[str] = (), batch_id: str | None = None
    ) -> int:
        """Release the open reservations of these leads, or of the batch; how many were open."""
        query: Document = {"status": "open"}
        if batch_id is not None:
            query["batch_id"] = batch_id
        else:
            query["_id"] = {"$in": list(lead_ids)}
        total = 0
        while True:
            released = await self._store.in_transaction(
                lambda session: self._release_some(query, now, session)
            )
            total += released
            if released < RELEASE_CHUNK:
                return total

    async def _release_some(
        self, query: Document, now: datetime, session: AsyncClientSession
    ) -> int:
        docs = (
            await self._store.reservations.find(query, {"account_id": 1}, session=session)
            .limit(RELEASE_CHUNK)
            .to_list()
        )
        if not docs:
            return 0
        await self._store.reservations.update_many(
            {"_id": {"$in": [d["_id"] for d in docs]}, "status": "open"},
            {"$set": {"status": "released", "settled_at": to_store_time(now)}},
            session=session,
        )
        for account_id, count in Counter(d["account_id"] for d in docs).items():
            await self._store.accounts.update_one(
                {"_id": account_id},
                {"$inc": {"reserved": -count, "available": count}},
                session=session,
            )
        return len(docs)

    async def charge(self, lead: LeadRef, source: str, now: datetime) -> ChargeOutcome:
        """Charge one unit for a lead, once: its open reservation becomes the charge.

        Without an open reservation (should not happen) the unit is taken only if one
        is available; otherwise the lead is written off (free), never below zero.
        Either way the marker keys the lead, so a replay returns `duplicate`.
        """

        async def work(session: AsyncClientSession) -> ChargeOutcome:
            await self._check_owner(lead, session)
            marker = {
                "_id": lead.lead_id,
                "account_id": lead.account_id,
                "batch_id": lead.batch_id,
                "source": source,
                "charged_at": now,
            }
            try:
                await self._store.charges.insert_one(marker, session=session)
            except DuplicateKeyError as exc:
                raise _AlreadyCharged from exc
            settled = {"settled_at": to_store_time(now)}
            held = await self._store.reservations.update_one(
                {"_id": lead.lead_id, "status": "open"},
                {"$set": {"status": "charged", **settled}},
                session=session,
            )
            if held.modified_count == 1:
                await self._store.accounts.update_one(
                    {"_id": lead.account_id},
                    {"$inc": {"reserved": -1, "charged": 1}},
                    session=session,
                )
                await self._deduct(lead, now, session)
                return "charged"
            await self._store.open_account(lead.account_id, session)
            taken = await self._store.accounts.update_one(
                {"_id": lead.account_id, "available": {"$gte": 1}},
                {"$inc": {"available": -1, "charged": 1}},
                session=session,
            )
            outcome: ChargeOutcome = "charged_unreserved" if taken.modified_count else "written_off"
            await self._settle_unreserved(
                lead, "charged" if taken.modified_count else outcome, now, session
            )
            if taken.modified_count:
                await self._deduct(lead, now, session)
            else:
                await self._store.charges.update_one(
                    {"_id": lead.lead_id}, {"$set": {"written_off": True}}, session=session
                )
            return outcome

        try:
            return await self._store.in_transaction(work)
        except _AlreadyCharged:
            return "duplicate"

    async def free(self, lead: LeadRef, now: datetime) -> bool:
        """Release a lead's reservation for good (final, not chargeable); True if one was open."""

        async def work(session: AsyncClientSession) -> bool:
            await self._check_owner(lead, session)
            held = await self._store.reservations.update_one(
                {"_id": lead.lead_id, "status": "open"},
                {"$set": {"status": "freed", "settled_at": to_store_time(now)}},
                session=session,
            )
            if held.modified_count == 1:
                await self._store.accounts.update_one(
                    {"_id": lead.account_id},
                    {"$inc": {"reserved": -1, "available": 1}},
                    session=session,
                )
                return True
            await self._settle_unreserved(lead, "freed", now, session)
            return False

        return await self._store.in_transaction(work)

    async def _check_owner(self, lead: LeadRef, session: AsyncClientSession) -> None:
        held = await self._store.reservations.find_one(
            {"_id": lead.lead_id}, {"account_id": 1}, session=session
        )
        if held is not None and held["account_id"] != lead.account_id:
            raise ForeignLead(f"lead {lead.lead_id} is reserved by another account")

    async def _settle_unreserved(
        self, lead: LeadRef, status: str, now: datetime, session: AsyncClientSession
    ) -> None:
        """Record a settled lead that held no open reservation, so a later request is `settled`.

        A lead settled before keeps what it was settled as.
        """
        existing = await self._store.reservations.find_one(
            {"_id": lead.lead_id}, {"status": 1}, session=session
        )
        if existing is not None and existing["status"] in SETTLED:
            return
        await self._store.reservations.update_one(
            {"_id": lead.lead_id},
            {
                "$set": {"status": status, "settled_at": to_store_time(now)},
                "$setOnInsert": {"account_id": lead.account_id, "batch_id": lead.batch_id},
            },
            upsert=True,
            session=session,
        )

    async def _deduct(self, lead: LeadRef, now: datetime, session: AsyncClientSession) -> None:
        await self._store.transactions.update_one(
            {"_id": deduction_id(lead.batch_id)},
            {
                "$inc": {"units": 1},
                "$set": {"updated_at": now},
                "$setOnInsert": {
                    "account_id": lead.account_id,
                    "kind": "deduction",
                    "batch_id": lead.batch_id,
                    "description": f"Cleansing of batch {lead.batch_id}",
                    "status": "completed",
                    "created_at": now,
                },
            },
            upsert=True,
            session=session,
        )

    async def due_for_reconciling(self, now: datetime, limit: int = 1000) -> list[Document]:
        """Open reservations whose lead billing has heard nothing final about for a while."""
        cursor = self._store.reservations.find(
            {"status": "open", "check_after": {"$lte": to_store_time(now)}}
        ).limit(limit)
        return await cursor.to_list()

    async def postpone(self, lead_ids: Sequence[str], now: datetime) -> None:
        """Look at these open reservations again one reconcile period from now."""
        await self._store.reservations.update_many(
            {"_id": {"$in": list(lead_ids)}, "status": "open"},
            {"$set": {"check_after": to_store_time(now + self._reconcile_after)}},
        )
