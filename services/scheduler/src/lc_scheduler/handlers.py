"""What the scheduler does with each event it consumes.

Each handler takes a typed event; decoding, retries, dead-lettering and commits
belong to the consumer runner. Every handler is idempotent (see domain.entries).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from lc_common.clock import Clock
from lc_common.errors import PoisonEvent
from lc_common.events import BatchEventV1, LeadAcceptedV1, LeadVerdictV1, ProbeRetryV1
from lc_scheduler import metrics
from lc_scheduler.domain import entries as transitions
from lc_scheduler.domain.batches import BatchRecord, after_batch_event
from lc_scheduler.domain.entries import Entry
from lc_scheduler.domain.retry import due_in_window, fallback_due
from lc_scheduler.domain.windows import CallingPolicy, place_number
from lc_scheduler.schedule import Schedule

log = structlog.get_logger(__name__)


@dataclass
class Placing:
    """How a new lead's time zones and first due time are found."""

    policy: CallingPolicy
    default_zones: dict[str, str]
    ignored_zones: frozenset[str]
    zone_prefixes: dict[str, str]
    windows_enforced: bool
    retry_schedule: Sequence[int]


class Handlers:
    """The scheduler's event handlers over one schedule."""

    def __init__(self, schedule: Schedule, clock: Clock, placing: Placing) -> None:
        self.schedule = schedule
        self.clock = clock
        self.placing = placing

    def new_entry(self, *, lead_id: str, account_id: str, batch_id: str, e164: str) -> Entry:
        """A queued first attempt, due now or at its calling window's next opening."""
        placing = self.placing
        placement = place_number(
            e164, placing.default_zones, placing.ignored_zones, placing.zone_prefixes
        )
        now = self.clock.now()
        return Entry(
            lead_id=lead_id,
            account_id=account_id,
            batch_id=batch_id,
            e164=e164,
            state="queued",
            attempt=1,
            due_at=self.window_due(placement.country, placement.zones, now),
            zones=placement.zones,
            country=placement.country,
        )

    def window_due(self, country: str | None, zones: Sequence[str], due: datetime) -> datetime:
        """`due`, or the next opening of the lead's calling window after it."""
        if not self.placing.windows_enforced:
            return due
        return due_in_window(self.placing.policy, country, zones, due)

    async def accept_many(self, events: Sequence[LeadAcceptedV1]) -> None:
        """Store new leads (bulk, idempotent by lead id) and queue them."""
        async with self.schedule.lock:
            await self._accept(events)

    async def _accept(self, events: Sequence[LeadAcceptedV1]) -> None:
        schedule = self.schedule
        now = self.clock.now()
        by_batch: dict[str, list[LeadAcceptedV1]] = defaultdict(list)
        for event in events:
            by_batch[event.batch_id].append(event)
        fresh: list[Entry] = []
        touched: dict[str, BatchRecord] = {}
        for batch_id, batch_events in by_batch.items():
            record = schedule.batches.get(batch_id)
            if record is not None and record.deleted:
                log.info(
                    "lead_of_deleted_batch_ignored", batch_id=batch_id, leads=len(batch_events)
                )
                continue
            if record is None:
                record = BatchRecord(batch_id, batch_events[0].account_id, created_at=now)
            seen: set[str] = set()
            for ev in batch_events:
                if ev.lead_id in schedule.entries or ev.lead_id in seen:
                    continue
                seen.add(ev.lead_id)
                fresh.append(
                    self.new_entry(
                        lead_id=ev.lead_id,
                        account_id=ev.account_id,
                        batch_id=batch_id,
                        e164=ev.e164,
                    )
                )
            touched[batch_id] = record
        inserted = await schedule.repo.insert_new(fresh)
        activated = [
            replace(r, active=True)
            for b, r in touched.items()
            if any(e.batch_id == b and e.lead_id in inserted for e in fresh)
            and (not r.active or b not in schedule.batches)
        ]
        if activated:
            await schedule.save_batches(activated)
        schedule.add_new(e for e in fresh if e.lead_id in inserted)
        if inserted:
            log.info("leads_queued", count=len(inserted), batches=sorted(touched))

    async def on_lead_accepted(self, event: LeadAcceptedV1) -> None:
        """One lead accepted: queue it (see `Accepter` for the bulk path)."""
        await self.accept_many([event])

    async def on_retry(self, event: ProbeRetryV1) -> None:
        """The classifier asks for another attempt: hold it until due, then dispatch."""
        if event.attempt < 1:
            raise PoisonEvent(f"retry with attempt {event.attempt}")
        async with self.schedule.lock:
            entry = await self.schedule.get(event.lead_id)
            if entry is None:
                # A retry for a lead never accepted here: take it in, it is open.
                entry = self.new_entry(
                    lead_id=event.lead_id,
                    account_id=event.account_id,
                    batch_id=event.batch_id,
                    e164=event.e164,
                )
                entry = replace(entry, attempt=0)
                await self._ensure_active(entry)
            due = self.window_due(entry.country, entry.zones, event.not_before)
            new = transitions.after_retry(
                entry,
                event_id=str(event.event_id),
                attempt=event.attempt,
                reason=event.reason,
                due_at=due,
                avoid_trunk=event.avoid_trunk,
            )
            if new is None:
                log.info("retry_ignored", state=entry.state, known_attempt=entry.attempt)
                return
            await self.schedule.commit([new])
        metrics.RETRIES_SCHEDULED.labels(event.reason).inc()
        log.info(
            "retry_scheduled",
            reason=event.reason,
            due_at=due.isoformat(),
            avoid_trunk=event.avoid_trunk,
        )

    async def on_verdict(self, event: LeadVerdictV1) -> None:
        """A verdict closes the outstanding probe; a final one closes the lead for good."""
        async with self.schedule.lock:
            entry = await self.schedule.get(event.lead_id)
            if entry is None:
                log.info("verdict_for_unknown_lead")
                return
            now = self.clock.now()
            next_at = event.next_attempt_at
            if not event.final and next_at is None:
                next_at = fallback_due(event.attempt + 1, now, self.placing.retry_schedule)
            if next_at is not None:
                next_at = self.window_due(entry.country, entry.zones, next_at)
            new = transitions.after_verdict(
                entry,
                attempt=event.attempt,
                final=event.final,
                now=now,
                next_attempt_at=next_at,
            )
            if new is None:
                return
            await self.schedule.commit([new])
        if event.final:
            metrics.FINALISED.inc()
        else:
            metrics.RETRIES_SCHEDULED.labels("verdict").inc()
        log.info("verdict_applied", final=event.final, status=event.status)

    async def on_batch_event(self, event: BatchEventV1) -> None:
        """Pause, resume, credit pause/resume and delete a batch."""
        schedule = self.schedule
        async with schedule.lock:
            record = schedule.batches.get(event.batch_id) or BatchRecord(
                event.batch_id, event.account_id, created_at=self.clock.now(), active=False
            )
            new = after_batch_event(record, event.kind, event.occurred_at)
            if new is None:
                return
            await schedule.save_batches([new])
            if event.kind == "deleted":
                dropped = schedule.forget_batch(event.batch_id)
                await schedule.repo.delete_batch_entries(event.batch_id, dropped)
                log.info("batch_deleted", dropped=len(dropped))
        log.info("batch_event_applied", kind=event.kind, dispatchable=new.dispatchable)

    async def _ensure_active(self, entry: Entry) -> None:
        record = self.schedule.batches.get(entry.batch_id)
        if record is None:
            record = BatchRecord(entry.batch_id, entry.account_id, created_at=self.clock.now())
        if not record.active and not record.deleted:
            await self.schedule.save_batches([replace(record, active=True)])


class Accepter:
    """Gathers concurrent `leads.accepted` events into one bulk write.

    The consumer runs many handlers at once; each waits here until the write that
    holds its lead is done (or failed, so the runner retries it).
    """

    def __init__(self, handlers: Handlers, max_items: int, linger: float = 0.02) -> None:
        self._handlers = handlers
        self._max = max_items
        self._linger = linger
        self._pending: list[tuple[LeadAcceptedV1, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def handle(self, event: LeadAcceptedV1) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((event, future))
        if len(self._pending) >= self._max:
            self._flush_soon(0)
        elif self._timer is None:
            self._flush_soon(self._linger)
        await future

    def _flush_soon(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(delay, self._start_flush)

    def _start_flush(self) -> None:
        task = asyncio.get_running_loop().create_task(self._flush())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush(self) -> None:
        self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            await self._handlers.accept_many([event for event, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)
