"""The live schedule: every open lead, per-batch queues, outstanding probes per trunk.

MongoDB is the record; this is its working copy, loaded at startup, so that a
dispatch round never scans the store. One scheduler process owns it: the
replica holding the lease (see `leadership`); its writes are fenced by the
lease epoch, and once one is refused (`lost`) nothing more is published from
this copy.

The state is reached only through a transaction, which holds the schedule's
lock for as long as it is open:

    async with schedule.transaction() as tx:
        entry = tx.entry(lead_id)
        await tx.commit([changed])

so handlers, the dispatch loop, the relay, credit, re-drive and retention never
lose each other's updates. Every change is written to the store first (by
`_id`, in bulk) and then applied here; a transaction used after its block
raises `TransactionClosed`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime

import structlog

from lc_scheduler import metrics
from lc_scheduler.domain.batches import BatchRecord
from lc_scheduler.domain.entries import Entry
from lc_scheduler.leadership import LeadershipLost
from lc_scheduler.ports import ScheduleStore
from lc_scheduler.working_copy import WorkingCopy

log = structlog.get_logger(__name__)


class TransactionClosed(RuntimeError):
    """A transaction was used after its `async with` block ended."""


class Schedule:
    """The scheduler's state; read and changed only inside `transaction()`."""

    def __init__(self, repo: ScheduleStore) -> None:
        self._repo = repo
        self._copy = WorkingCopy()
        self._lock = asyncio.Lock()
        self._lost = False
        # Set when there may be new work for the dispatch loop (a signal, not state).
        self.wake = asyncio.Event()

    @property
    def lost(self) -> bool:
        """True once a newer leader's fence refused a write: this copy is stale."""
        return self._lost

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Hold the schedule's lock; yield the only handle on its state."""
        async with self._lock:
            tx = Transaction(self)
            try:
                yield tx
            finally:
                tx._open = False

    async def load(self, epoch: int = 0) -> None:
        """Take the store over for this leader's `epoch`, then read open entries and batches."""
        async with self.transaction():
            await self._repo.take_over(epoch)
            copy = self._copy
            for record in await self._repo.batches():
                copy.batches[record.batch_id] = record
            closed = {b for b, r in copy.batches.items() if r.closed}
            for entry in await self._repo.open_entries():
                if entry.batch_id not in closed:  # else left by a crash while closing it
                    self._apply(entry)
            log.info("schedule_loaded", open_leads=len(copy.entries), batches=len(copy.batches))

    def _apply(self, entry: Entry) -> None:
        if self._copy.apply(entry):
            self.wake.set()

    async def _fenced(self, write: Awaitable[None]) -> None:
        """Run a store write; remember a refusal by a newer leader's fence, and re-raise it."""
        try:
            await write
        except LeadershipLost:
            self._lost = True
            log.error("schedule_fenced_out")
            raise


class Transaction:
    """The schedule's state while its lock is held; valid only inside its `async with`."""

    def __init__(self, schedule: Schedule) -> None:
        self._schedule = schedule
        self._open = True

    def _live(self) -> None:
        if not self._open:
            raise TransactionClosed("the schedule was used outside its transaction")

    @property
    def _copy(self) -> WorkingCopy:
        self._live()
        return self._schedule._copy

    # Reading

    def entry(self, lead_id: str) -> Entry | None:
        """The lead's entry if it is open (queued or outstanding) here."""
        return self._copy.entries.get(lead_id)

    async def entries(self, lead_ids: Sequence[str]) -> dict[str, Entry]:
        """The entries of these leads: open ones from memory, the rest (final, or written
        by a leader that lost its lease meanwhile) from the store."""
        copy = self._copy
        found = {i: copy.entries[i] for i in lead_ids if i in copy.entries}
        missing = [i for i in dict.fromkeys(lead_ids) if i not in found]
        if missing:
            found.update(await self._schedule._repo.entries(missing))
        return found

    def open_entries(self, batch_id: str | None = None) -> list[Entry]:
        """Every open entry, or the open entries of one batch."""
        entries = self._copy.entries.values()
        return [e for e in entries if batch_id is None or e.batch_id == batch_id]

    def batch(self, batch_id: str) -> BatchRecord | None:
        """The batch's record, if the scheduler knows the batch."""
        return self._copy.batches.get(batch_id)

    def batches(self) -> list[BatchRecord]:
        """Every batch record."""
        return list(self._copy.batches.values())

    def active_batches(self) -> list[BatchRecord]:
        """Batches with open leads that are not closed."""
        return [r for r in self._copy.batches.values() if r.active and not r.closed]

    def outstanding(self, trunk: str) -> frozenset[str]:
        """The lead ids with a probe outstanding on the trunk."""
        return frozenset(self._copy.outstanding.get(trunk, ()))

    def unsent(self) -> list[Entry]:
        """Outstanding entries whose probe request is not published yet, by lead id."""
        copy = self._copy
        return [copy.entries[i] for i in sorted(copy.unsent)]

    # The dispatch loop's view of the queues

    def has_due(self, batch_id: str, now: datetime) -> bool:
        """True if the batch has a queued entry due at `now`."""
        head = self._copy.head(batch_id)
        return head is not None and head.due_at <= now

    def next_due(self, batch_id: str, now: datetime) -> Entry | None:
        """Take the batch's next due, queued entry off its queue; None if none is due.

        An entry taken and not committed changed goes back with `push_back`."""
        copy = self._copy
        head = copy.head(batch_id)
        if head is None or head.due_at > now:
            return None
        return copy.pop_head(batch_id)

    def push_back(self, entries: Iterable[Entry]) -> None:
        """Return entries taken by `next_due`, unchanged, to their queues."""
        for e in entries:
            self._copy.enqueue(e)

    # Changing

    async def commit(self, entries: Iterable[Entry]) -> None:
        """Store the changed entries, then apply them here; a batch whose last open
        entry became final becomes inactive."""
        self._live()
        changed = list(entries)
        if not changed:
            return
        schedule = self._schedule
        await schedule._fenced(schedule._repo.save(changed))
        for entry in changed:
            schedule._apply(entry)
        await self._deactivate_done([e.batch_id for e in changed if e.state == "final"])

    async def insert(self, entries: Sequence[Entry], now: datetime) -> list[Entry]:
        """Store new entries (idempotent by lead id) and apply them; the entries now open.

        A lead already stored but not open here (written by a leader that lost its
        lease meanwhile) is read back, so it is not lost; a closed batch's are dropped.
        """
        copy = self._copy
        fresh: dict[str, Entry] = {}
        for entry in entries:
            record = copy.batches.get(entry.batch_id)
            if (record is None or not record.closed) and entry.lead_id not in copy.entries:
                fresh[entry.lead_id] = entry
        if not fresh:
            return []
        inserted = await self._schedule._repo.insert_new(list(fresh.values()))
        new = [fresh[lead_id] for lead_id in fresh if lead_id in inserted]
        stored = [lead_id for lead_id in fresh if lead_id not in inserted]
        if stored:
            found = await self._schedule._repo.entries(stored)
            new.extend(e for e in found.values() if e.state != "final")
        await self.activate(new, now)
        for entry in new:
            self._schedule._apply(entry)
        self._schedule.wake.set()
        return new

    async def save_batches(self, records: Iterable[BatchRecord]) -> None:
        """Store batch records, then apply them here."""
        self._live()
        changed = list(records)
        if not changed:
            return
        schedule = self._schedule
        await schedule._fenced(schedule._repo.save_batches(changed))
        for record in changed:
            self._copy.batches[record.batch_id] = record
        if any(r.dispatchable for r in changed):
            schedule.wake.set()

    async def drop_batch(self, batch_id: str) -> list[str]:
        """Delete every entry of a batch from the store, then from memory; the open lead ids."""
        copy = self._copy
        dropped = [lid for lid, e in copy.entries.items() if e.batch_id == batch_id]
        schedule = self._schedule
        await schedule._fenced(schedule._repo.delete_batch_entries(batch_id, dropped))
        if copy.drop(batch_id, dropped):
            schedule.wake.set()
        return dropped

    def refresh_gauges(self) -> None:
        """Set the batch gauges from the working copy."""
        active = self.active_batches()
        metrics.ACTIVE_BATCHES.set(len(active))
        metrics.PAUSED_BATCHES.set(sum(1 for r in active if not r.dispatchable))

    async def activate(self, entries: Sequence[Entry], now: datetime) -> None:
        """Mark the batches of these open entries active (a record created at `now` for a
        batch not known yet); a closed batch stays closed."""
        copy = self._copy
        records = []
        for batch_id, account_id in {e.batch_id: e.account_id for e in entries}.items():
            record = copy.batches.get(batch_id)
            if record is None:
                records.append(BatchRecord(batch_id, account_id, created_at=now))
            elif not record.active and not record.closed:
                records.append(replace(record, active=True))
        await self.save_batches(records)

    async def _deactivate_done(self, batch_ids: Iterable[str]) -> None:
        copy = self._copy
        done = []
        for batch_id in set(batch_ids):
            record = copy.batches.get(batch_id)
            if copy.open_per_batch.get(batch_id, 0) <= 0 and record and record.active:
                done.append(replace(record, active=False))
                copy.forget_queue(batch_id)
        if done:
            await self.save_batches(done)
            for record in done:
                log.info("batch_done", batch_id=record.batch_id)
