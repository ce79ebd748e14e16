"""The scheduler's collections in MongoDB: dispatch entries and batches.

Every write names documents by `_id` (the store of the local stack is fast that
way and slow otherwise) and many go in one bulk write. Field names are flat.

- `dispatch_entries`: one per lead, `_id` = lead id; the durable dispatch queue
  and retry schedule. Indexes (batch_id, state, due_at) and (state, due_at).
- `batches`: one per batch, `_id` = batch id; pause flags and whether it is
  still active (has leads not yet final).

Fencing (docs/invariants.md I8): every document carries `fence`, the epoch of
the last leader that wrote it. A write matches only documents whose fence is at
most this leader's epoch, and stamps its own; a new leader first stamps every
open entry and every batch record (`take_over`). A write that matched fewer
documents than it names means a newer leader holds them: `LeadershipLost`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import ASCENDING, InsertOne, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError
from pymongo.results import BulkWriteResult

from lc_scheduler import metrics
from lc_scheduler.domain.batches import BatchRecord
from lc_scheduler.domain.entries import Entry
from lc_scheduler.leadership import LeadershipLost

Document = dict[str, Any]
ENTRIES = "dispatch_entries"
BATCHES = "batches"
_DUPLICATE_KEY = 11000


FENCE = "fence"
_ENTRY_FIELDS = tuple(f.name for f in dataclasses.fields(Entry) if f.name != "lead_id")
_BATCH_FIELDS = tuple(f.name for f in dataclasses.fields(BatchRecord) if f.name != "batch_id")


def entry_to_doc(entry: Entry) -> Document:
    # Field by field: `dataclasses.asdict` deep-copies and costs ~10x more per lead.
    doc: Document = {name: getattr(entry, name) for name in _ENTRY_FIELDS}
    doc["_id"] = entry.lead_id
    doc["zones"] = list(entry.zones)
    doc["retry_events"] = list(entry.retry_events)
    return doc


def entry_from_doc(doc: Document) -> Entry:
    fields = {f.name for f in dataclasses.fields(Entry)}
    values = {k: v for k, v in doc.items() if k in fields}
    values["lead_id"] = doc["_id"]
    values["zones"] = tuple(doc.get("zones") or ())
    values["retry_events"] = tuple(doc.get("retry_events") or ())
    return Entry(**values)


def batch_to_doc(record: BatchRecord) -> Document:
    doc: Document = {name: getattr(record, name) for name in _BATCH_FIELDS}
    doc["_id"] = record.batch_id
    return doc


def batch_from_doc(doc: Document) -> BatchRecord:
    fields = {f.name for f in dataclasses.fields(BatchRecord)}
    values = {k: v for k, v in doc.items() if k in fields}
    values["batch_id"] = doc["_id"]
    return BatchRecord(**values)


def _fenced_out(what: str, expected: int, matched: int) -> LeadershipLost:
    metrics.FENCED_WRITES.inc()
    return LeadershipLost(f"a newer leader holds {expected - matched} of {expected} {what}")


class Repository:
    """Reads and writes the scheduler's documents, fenced by this leader's `epoch`."""

    def __init__(self, db: AsyncDatabase[Document], epoch: int = 0) -> None:
        self._entries = db[ENTRIES]
        self._batches = db[BATCHES]
        self.epoch = epoch

    def _mine(self, _id: str) -> Document:
        return {"_id": _id, FENCE: {"$lte": self.epoch}}

    async def take_over(self, epoch: int) -> None:
        """Start a term: stamp every open entry and every batch with `epoch`, then write by it.

        From then on a leader of an older epoch matches none of them. Documents
        written before fencing existed get fence 0 first, so the filters match them.
        """
        self.epoch = epoch
        await self._entries.update_many({FENCE: {"$exists": False}}, {"$set": {FENCE: 0}})
        await self._entries.update_many({"state": {"$ne": "final"}}, {"$max": {FENCE: epoch}})
        await self._batches.update_many({}, {"$max": {FENCE: epoch}})

    async def ensure_indexes(self) -> None:
        """Create the indexes the scheduler's queries use."""
        await self._entries.create_index(
            [("batch_id", ASCENDING), ("state", ASCENDING), ("due_at", ASCENDING)]
        )
        await self._entries.create_index([("state", ASCENDING), ("due_at", ASCENDING)])
        await self._batches.create_index([("active", ASCENDING)])

    async def open_entries(self) -> list[Entry]:
        """Every entry not yet final (read once at startup)."""
        cursor = self._entries.find({"state": {"$ne": "final"}})
        return [entry_from_doc(doc) async for doc in cursor]

    async def entries(self, lead_ids: Sequence[str]) -> dict[str, Entry]:
        """The stored entries of these leads (missing ones left out)."""
        if not lead_ids:
            return {}
        cursor = self._entries.find({"_id": {"$in": list(lead_ids)}})
        return {doc["_id"]: entry_from_doc(doc) async for doc in cursor}

    async def insert_new(self, entries: Sequence[Entry]) -> set[str]:
        """Insert the entries whose lead is not stored yet; the lead ids inserted."""
        if not entries:
            return set()
        ops = [InsertOne({**entry_to_doc(e), FENCE: self.epoch}) for e in entries]
        failed: set[int] = set()
        try:
            await self._entries.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(err.get("code") != _DUPLICATE_KEY for err in errors):
                raise
            failed = {int(err["index"]) for err in errors}
        return {e.lead_id for i, e in enumerate(entries) if i not in failed}

    async def save(self, entries: Iterable[Entry]) -> None:
        """Write these stored entries as they are now; `LeadershipLost` if fenced out."""
        latest = {e.lead_id: e for e in entries}
        ops = [
            ReplaceOne(self._mine(lead_id), {**entry_to_doc(e), FENCE: self.epoch})
            for lead_id, e in latest.items()
        ]
        if not ops:
            return
        result: BulkWriteResult = await self._entries.bulk_write(ops, ordered=False)
        if result.matched_count < len(ops):
            raise _fenced_out("entries", len(ops), result.matched_count)

    async def delete_batch_entries(self, batch_id: str, lead_ids: Sequence[str]) -> None:
        """Drop a closed batch's entries (those known to be open, then any left)."""
        if lead_ids:
            ids = list(dict.fromkeys(lead_ids))
            result = await self._entries.delete_many(
                {"_id": {"$in": ids}, FENCE: {"$lte": self.epoch}}
            )
            if result.deleted_count < len(ids):
                raise _fenced_out("entries", len(ids), result.deleted_count)
        await self._entries.delete_many({"batch_id": batch_id, FENCE: {"$lte": self.epoch}})

    async def batches(self) -> list[BatchRecord]:
        """Every batch record (active or not, deleted ones as tombstones)."""
        return [batch_from_doc(doc) async for doc in self._batches.find({})]

    async def batch(self, batch_id: str) -> BatchRecord | None:
        doc = await self._batches.find_one({"_id": batch_id})
        return batch_from_doc(doc) if doc else None

    async def save_batches(self, records: Iterable[BatchRecord]) -> None:
        """Write these batch records (new ones inserted); `LeadershipLost` if fenced out."""
        ops = [
            # A record a newer leader stamped does not match, so the upsert tries to
            # insert its _id again: a duplicate key is the fence refusing us.
            ReplaceOne(self._mine(r.batch_id), {**batch_to_doc(r), FENCE: self.epoch}, upsert=True)
            for r in records
        ]
        if not ops:
            return
        try:
            await self._batches.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if errors and all(err.get("code") == _DUPLICATE_KEY for err in errors):
                raise _fenced_out("batch records", len(ops), len(ops) - len(errors)) from exc
            raise
