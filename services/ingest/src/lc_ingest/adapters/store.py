"""The ingest service's MongoDB collections: batches, leads and accounts' credit state.

`MongoIngestStore` implements `lc_ingest.ports.IngestStore`; `documents` translates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from lc_common.events import Event
from lc_common.outbox import OUTBOX_FIELD, outbox_entry
from lc_common.store import to_store_time
from lc_ingest.adapters.documents import (
    SUMMARY_FIELDS,
    Doc,
    batch_fields,
    batch_from_doc,
    lead_doc,
    lead_from_doc,
    new_batch_doc,
    summary_from_doc,
    verdict_fields,
)
from lc_ingest.domain.batch import OPEN_LEAD_STATES, Batch, BatchStatus, Counters
from lc_ingest.domain.lead import Lead, LeadSummary

_DUPLICATE_KEY = 11000


def lead_id_range(batch_id: str) -> dict[str, str]:
    """An `_id` filter for every lead of a batch (a range scan on the primary key)."""
    return {"$gte": f"{batch_id}:", "$lt": f"{batch_id};"}


def _stored_range(between: tuple[datetime, datetime]) -> dict[str, str]:
    start, end = between
    return {"$gte": to_store_time(start), "$lt": to_store_time(end)}


def _batch(doc: Doc | None) -> Batch | None:
    return None if doc is None else batch_from_doc(doc)


class MongoIngestStore:
    """Batches and leads. Leads have deterministic `_id`s and are written in bulk.

    A batch's status changes carry the `batch.events` event announcing them in the
    batch's `outbox` (the same single-document write); `lc_common.outbox` relays it.
    """

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._db = db
        self.batches = db["batches"]
        self.leads = db["leads"]
        self.accounts = db["accounts"]

    async def ensure_indexes(self) -> None:
        """Create the indexes the queries below rely on."""
        await self.batches.create_index([("account_id", ASCENDING), ("submitted_at", DESCENDING)])
        await self.batches.create_index([("status", ASCENDING)])
        await self.leads.create_index([("batch_id", ASCENDING), ("processed_on", ASCENDING)])
        await self.leads.create_index([("batch_id", ASCENDING), ("finalised_at", ASCENDING)])
        await self.leads.create_index([("account_id", ASCENDING), ("finalised_at", ASCENDING)])

    # batches
    async def create_batch(self, batch: Batch) -> None:
        await self.batches.insert_one(new_batch_doc(batch))

    async def get_batch(self, batch_id: str, account_id: str | None = None) -> Batch | None:
        """The batch, or None; with an account id, None unless it belongs to that account."""
        query: Doc = {"_id": batch_id}
        if account_id is not None:
            query["account_id"] = account_id
        return _batch(await self.batches.find_one(query))

    async def list_batches(self, account_id: str) -> list[Batch]:
        cursor = self.batches.find({"account_id": account_id}).sort("submitted_at", DESCENDING)
        return [batch_from_doc(doc) async for doc in cursor]

    async def batches_with_status(
        self, statuses: Sequence[BatchStatus], account_id: str | None = None
    ) -> list[Batch]:
        query: Doc = {"status": {"$in": list(statuses)}}
        if account_id is not None:
            query["account_id"] = account_id
        return [batch_from_doc(doc) async for doc in self.batches.find(query)]

    async def update_batch(
        self,
        batch_id: str,
        fields: Mapping[str, object],
        *,
        only_if_status: Sequence[BatchStatus] = (),
        expected_counters: Counters | None = None,
        announce: Event | None = None,
    ) -> Batch | None:
        """Set fields; with `only_if_status`, only when the batch is in one of them, and
        with `expected_counters`, only while its counters are these. `announce` is pushed
        into the batch's outbox in the same write.

        Returns the batch after the update, or None when nothing matched.
        """
        query: Doc = {"_id": batch_id}
        if expected_counters is not None:
            query.update(expected_counters.as_dict())
        if only_if_status:
            query["status"] = {"$in": list(only_if_status)}
        update: Doc = {"$set": batch_fields(fields)}
        if announce is not None:
            update["$push"] = {OUTBOX_FIELD: outbox_entry(announce, key=batch_id)}
        return _batch(
            await self.batches.find_one_and_update(
                query, update, return_document=ReturnDocument.AFTER
            )
        )

    async def add_to_counters(self, batch_id: str, deltas: Mapping[str, int]) -> Batch | None:
        """Add to batch counters and return the batch after."""
        return _batch(
            await self.batches.find_one_and_update(
                {"_id": batch_id}, {"$inc": dict(deltas)}, return_document=ReturnDocument.AFTER
            )
        )

    # leads
    async def insert_leads(self, leads: Sequence[Lead]) -> int:
        """Insert leads, keeping any that exist (a resumed import); returns the new count."""
        if not leads:
            return 0
        docs = [lead_doc(lead) for lead in leads]
        try:
            result = await self.leads.insert_many(docs, ordered=False)
            return len(result.inserted_ids)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != _DUPLICATE_KEY for e in errors):
                raise
            return int(exc.details.get("nInserted", len(docs) - len(errors)))

    async def mark_testing(
        self, batch_id: str, lead_ids: Sequence[str], attempt: int
    ) -> dict[str, int]:
        """The batch's leads whose attempt `attempt` is under way now become `testing`, unless
        final or already judged for that attempt; how many changed, per former state."""
        changed = {}
        for state in ("pending", "retry"):
            result = await self.leads.update_many(
                {
                    "_id": {"$in": list(lead_ids)},
                    "batch_id": batch_id,
                    "state": state,
                    "attempts": {"$lt": attempt},
                },
                {"$set": {"state": "testing"}},
            )
            changed[state] = result.modified_count
        return changed

    async def get_lead(self, lead_id: str) -> Lead | None:
        doc = await self.leads.find_one({"_id": lead_id})
        return None if doc is None else lead_from_doc(doc)

    async def save_verdict(self, before: Lead, after: Lead) -> bool:
        """Compare-and-set: update the lead only if its state and attempts are still as read."""
        result = await self.leads.update_one(
            {"_id": before.id, "state": before.state, "attempts": before.attempts},
            {"$set": verdict_fields(after)},
        )
        return result.modified_count == 1

    async def leads_by_id(self, lead_ids: Sequence[str]) -> list[LeadSummary]:
        """The leads among these ids that exist."""
        projection = dict.fromkeys(SUMMARY_FIELDS, 1)
        cursor = self.leads.find({"_id": {"$in": list(lead_ids)}}, projection)
        return [summary_from_doc(doc) async for doc in cursor]

    async def iter_leads(
        self, batch_id: str, finalised_between: tuple[datetime, datetime] | None = None
    ) -> AsyncIterator[Lead]:
        """The batch's leads in row order, optionally only those finalised in `[start, end)`
        (compared as `lc_common.store.to_store_time` text)."""
        query: Doc = {"_id": lead_id_range(batch_id)}
        if finalised_between is not None:
            query = {"batch_id": batch_id, "finalised_at": _stored_range(finalised_between)}
        async for doc in self.leads.find(query).sort("_id", ASCENDING).batch_size(2000):
            yield lead_from_doc(doc)

    async def count_states(self, batch_id: str) -> dict[str, int]:
        """How many of the batch's leads are in each state."""
        cursor = await self.leads.aggregate(
            [
                {"$match": {"_id": lead_id_range(batch_id)}},
                {"$group": {"_id": "$state", "n": {"$sum": 1}}},
            ]
        )
        return {row["_id"]: row["n"] async for row in cursor}

    async def daily_counts(
        self, account_id: str, between: tuple[datetime, datetime]
    ) -> dict[str, dict[str, int]]:
        """Per batch of the account, final verdicts by state finalised in `[start, end)` (a
        local day). Counted while streaming the leads' states: nx-27017 does not evaluate a
        compound `$group` key."""
        counts: dict[str, dict[str, int]] = {}
        cursor = self.leads.find(
            {"account_id": account_id, "finalised_at": _stored_range(between)},
            {"batch_id": 1, "state": 1},
        ).batch_size(5000)
        async for doc in cursor:
            per_state = counts.setdefault(doc["batch_id"], {})
            per_state[doc["state"]] = per_state.get(doc["state"], 0) + 1
        return counts

    async def open_leads(self, after: str, limit: int) -> list[LeadSummary]:
        """Leads not final yet, in `_id` order after `after` (for the scheduler's re-drive)."""
        cursor = (
            self.leads.find(
                {"_id": {"$gt": after}, "state": {"$in": list(OPEN_LEAD_STATES)}},
                dict.fromkeys(SUMMARY_FIELDS, 1),
            )
            .sort("_id", ASCENDING)
            .limit(limit)
        )
        return [summary_from_doc(doc) async for doc in cursor]

    # accounts
    async def record_credit(self, account_id: str, state: str, at: datetime) -> bool:
        """Keep the account's credit state as of `at` unless a newer one is kept; True if
        it changed. Idempotent: a replayed or older billing event changes nothing.

        Compared as whole microseconds since the epoch: nx-27017 (the local store)
        does not order date-like strings or datetimes in a `$lt` filter."""
        micros = int(at.timestamp() * 1_000_000)
        fields = {"credit": state, "credit_at": to_store_time(at), "credit_at_us": micros}
        result = await self.accounts.update_one(
            {"_id": account_id, "credit_at_us": {"$lt": micros}}, {"$set": fields}
        )
        if result.matched_count:
            return True
        try:
            await self.accounts.insert_one({"_id": account_id, **fields})
        except DuplicateKeyError:
            return False  # a state as new or newer is kept
        return True

    async def credit_state(self, account_id: str) -> str | None:
        """`exhausted`, `restored`, or None if billing never said."""
        doc = await self.accounts.find_one({"_id": account_id})
        return None if doc is None else str(doc["credit"])

    async def purge_leads(self, batch_id: str) -> int:
        result = await self.leads.delete_many({"_id": lead_id_range(batch_id)})
        return result.deleted_count
