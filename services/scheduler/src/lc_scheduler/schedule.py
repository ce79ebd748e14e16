"""The live schedule: every open lead, per-batch queues, outstanding probes per trunk.

MongoDB is the record; this is its working copy, loaded at startup, so that a
dispatch round never scans the store. Every change is written to the store
first (by `_id`, in bulk) and then applied here, under one lock, so handlers
and the dispatch loop never lose each other's updates. One scheduler process
owns the schedule: the replica holding the lease (see `leadership`); its
writes are fenced by the lease epoch, and once one is refused (`lost`) nothing
more is published from this copy.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import defaultdict
from collections.abc import Awaitable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

import structlog

from lc_scheduler import metrics
from lc_scheduler.domain.batches import BatchRecord
from lc_scheduler.domain.entries import Entry
from lc_scheduler.leadership import LeadershipLost
from lc_scheduler.ports import ScheduleStore

log = structlog.get_logger(__name__)

# A queue item: (due_at, rev, lead_id); stale items (the entry changed) are skipped.
QueueItem = tuple[datetime, int, str]


@dataclass
class Schedule:
    """The working copy of the scheduler's state."""

    repo: ScheduleStore
    entries: dict[str, Entry] = field(default_factory=dict)
    batches: dict[str, BatchRecord] = field(default_factory=dict)
    queues: dict[str, list[QueueItem]] = field(default_factory=lambda: defaultdict(list))
    outstanding: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    open_per_batch: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Outstanding entries whose probe request is not published yet (the outbox).
    unsent: set[str] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # True once a newer leader's fence refused a write: this copy is stale.
    lost: bool = False

    async def load(self, epoch: int = 0) -> None:
        """Take the store over for this leader's `epoch`, then read open entries and batches."""
        await self.repo.take_over(epoch)
        for record in await self.repo.batches():
            self.batches[record.batch_id] = record
        closed = {b for b, r in self.batches.items() if r.closed}
        for entry in await self.repo.open_entries():
            if entry.batch_id not in closed:  # else left by a crash while closing it
                self._apply(entry)
        log.info("schedule_loaded", open_leads=len(self.entries), batches=len(self.batches))

    async def get(self, lead_id: str) -> Entry | None:
        """The lead's entry: open ones from memory, else the stored (final) one."""
        entry = self.entries.get(lead_id)
        if entry is not None:
            return entry
        return (await self.repo.entries([lead_id])).get(lead_id)

    async def commit(self, entries: Iterable[Entry]) -> None:
        """Store the changed entries, then apply them here. Hold `lock` while calling."""
        changed = list(entries)
        if not changed:
            return
        await self.fenced(self.repo.save(changed))
        for entry in changed:
            self._apply(entry)
        await self._deactivate_done([e.batch_id for e in changed if e.state == "final"])

    def add_new(self, entries: Iterable[Entry]) -> None:
        """Apply entries just inserted in the store."""
        for entry in entries:
            self._apply(entry)
        self.wake.set()

    async def save_batches(self, records: Iterable[BatchRecord]) -> None:
        """Store batch records, then apply them here."""
        changed = list(records)
        await self.fenced(self.repo.save_batches(changed))
        for record in changed:
            self.batches[record.batch_id] = record
        if any(r.dispatchable for r in changed):
            self.wake.set()

    async def fenced(self, write: Awaitable[None]) -> None:
        """Run a store write; remember a refusal by a newer leader's fence, and re-raise it."""
        try:
            await write
        except LeadershipLost:
            self.lost = True
            log.error("schedule_fenced_out")
            raise

    async def drop_batch(self, batch_id: str) -> list[str]:
        """Delete every entry of a batch from the store, then from memory; the open lead ids."""
        dropped = [lid for lid, e in self.entries.items() if e.batch_id == batch_id]
        await self.fenced(self.repo.delete_batch_entries(batch_id, dropped))
        for lead_id in dropped:
            self._unlink(self.entries.pop(lead_id))
        self.queues.pop(batch_id, None)
        self.open_per_batch.pop(batch_id, None)
        return dropped

    def _unlink(self, old: Entry) -> None:
        self.unsent.discard(old.lead_id)
        if old.state == "outstanding" and old.trunk is not None:
            self.outstanding[old.trunk].discard(old.lead_id)
            self.wake.set()

    def _apply(self, entry: Entry) -> None:
        old = self.entries.get(entry.lead_id)
        if old is not None:
            self._unlink(old)
        elif entry.state != "final":
            self.open_per_batch[entry.batch_id] += 1
        if entry.state == "final":
            if old is not None:
                del self.entries[entry.lead_id]
                self.open_per_batch[entry.batch_id] -= 1
            return
        self.entries[entry.lead_id] = entry
        if entry.state == "queued":
            heapq.heappush(self.queues[entry.batch_id], (entry.due_at, entry.rev, entry.lead_id))
        elif entry.state == "outstanding" and entry.trunk is not None:
            self.outstanding[entry.trunk].add(entry.lead_id)
            if not entry.sent:
                self.unsent.add(entry.lead_id)

    async def _deactivate_done(self, batch_ids: Iterable[str]) -> None:
        done = []
        for batch_id in set(batch_ids):
            record = self.batches.get(batch_id)
            if self.open_per_batch.get(batch_id, 0) <= 0 and record and record.active:
                done.append(replace(record, active=False))
                self.queues.pop(batch_id, None)
                self.open_per_batch.pop(batch_id, None)
        if done:
            await self.save_batches(done)
            for record in done:
                log.info("batch_done", batch_id=record.batch_id)

    # The dispatch loop's view of the queues.

    def next_due(self, batch_id: str, now: datetime) -> Entry | None:
        """Pop the batch's next due, queued entry (skipping stale queue items)."""
        queue = self.queues.get(batch_id)
        while queue:
            due_at, rev, lead_id = queue[0]
            entry = self.entries.get(lead_id)
            if entry is None or entry.state != "queued" or entry.rev != rev:
                heapq.heappop(queue)
                continue
            if due_at > now:
                return None
            heapq.heappop(queue)
            return entry
        return None

    def push_back(self, entries: Iterable[Entry]) -> None:
        """Return popped, unchanged entries to their queues."""
        for e in entries:
            heapq.heappush(self.queues[e.batch_id], (e.due_at, e.rev, e.lead_id))

    def has_due(self, batch_id: str, now: datetime) -> bool:
        """True if the batch has a queued entry due at `now` (drops stale heads)."""
        queue = self.queues.get(batch_id)
        while queue:
            due_at, rev, lead_id = queue[0]
            entry = self.entries.get(lead_id)
            if entry is None or entry.state != "queued" or entry.rev != rev:
                heapq.heappop(queue)
                continue
            return due_at <= now
        return False

    def active_batches(self) -> Iterator[BatchRecord]:
        """Batches with open leads."""
        return (r for r in self.batches.values() if r.active and not r.closed)

    def refresh_gauges(self) -> None:
        """Set the batch gauges from the working copy."""
        active = list(self.active_batches())
        metrics.ACTIVE_BATCHES.set(len(active))
        metrics.PAUSED_BATCHES.set(sum(1 for r in active if not r.dispatchable))
