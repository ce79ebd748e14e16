"""What the scheduler does with each event it consumes.

Handlers take typed events; decoding, retries, dead-lettering and commits belong
to the consumer runner. Leads, verdicts and retries are applied in bulk (see
`coalesce`): the events of one bulk are applied in order to the working copy
and written to the store in one go. Every handler is idempotent (see
`domain.entries` and `domain.batches`). Impossible events (a number that is
not E.164, attempt 0, a lead outside its batch) are refused by the event
contracts at decode and never reach a handler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog

from lc_common.clock import Clock
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
    """How a new lead's time zones and due times are found."""

    policy: CallingPolicy
    default_zones: dict[str, str]
    ignored_zones: frozenset[str]
    zone_prefixes: dict[str, str]
    windows_enforced: bool
    retry_schedule: Sequence[int]


class Handlers:
    """The scheduler's event handlers over one schedule."""

    def __init__(
        self,
        schedule: Schedule,
        clock: Clock,
        placing: Placing,
        on_closed: Callable[[], None] = lambda: None,
        pause_requeue_after: timedelta = timedelta(seconds=90),
    ) -> None:
        self.schedule = schedule
        self.clock = clock
        self.placing = placing
        # Called once a batch closed (failed, deleted): its reservations await release.
        self.on_closed = on_closed
        self.pause_requeue_after = pause_requeue_after

    def new_entry(
        self,
        *,
        lead_id: str,
        account_id: str,
        batch_id: str,
        e164: str,
        country: str | None = None,
    ) -> Entry:
        """A queued first attempt, due now or at its calling window's next opening."""
        p = self.placing
        placement = place_number(
            e164, p.default_zones, p.ignored_zones, p.zone_prefixes, country=country
        )
        due = self.window_due(placement.country, placement.zones, self.clock.now())
        return Entry(
            lead_id=lead_id,
            account_id=account_id,
            batch_id=batch_id,
            e164=e164,
            state="queued",
            attempt=1,
            due_at=due,
            zones=placement.zones,
            country=placement.country,
        )

    def window_due(self, country: str | None, zones: Sequence[str], due: datetime) -> datetime:
        """`due`, or the next opening of the lead's calling window after it."""
        if not self.placing.windows_enforced:
            return due
        return due_in_window(self.placing.policy, country, zones, due)

    # leads.accepted

    async def accept_many(self, events: Sequence[LeadAcceptedV1]) -> None:
        """Store new leads (idempotent by lead id) and queue them; a closed batch's are dropped.

        A lead already stored but not in the working copy (written by a leader
        that lost its lease meanwhile) is read back, so it is not lost.
        """
        schedule = self.schedule
        # Placed outside the lock (the costly part), so dispatch and another bulk's
        # write go on meanwhile; what changed meanwhile is filtered under the lock.
        placed = {
            ev.lead_id: self.new_entry(
                lead_id=ev.lead_id,
                account_id=ev.account_id,
                batch_id=ev.batch_id,
                e164=ev.e164,
                country=ev.region,
            )
            for ev in events
            if ev.lead_id not in schedule.entries
        }
        async with schedule.lock:
            fresh: dict[str, Entry] = {}
            for entry in placed.values():
                record = schedule.batches.get(entry.batch_id)
                if record is not None and record.closed:
                    continue
                if entry.lead_id not in schedule.entries:
                    fresh[entry.lead_id] = entry
            inserted = await schedule.repo.insert_new(list(fresh.values()))
            new = [fresh[lead_id] for lead_id in fresh if lead_id in inserted]
            stored = [lead_id for lead_id in fresh if lead_id not in inserted]
            if stored:
                found = await schedule.repo.entries(stored)
                new.extend(e for e in found.values() if e.state != "final")
            await self._activate(new)
            schedule.add_new(new)
        if new:
            log.info("leads_queued", count=len(new), batches=sorted({e.batch_id for e in new}))

    async def _activate(self, entries: Sequence[Entry]) -> None:
        """Mark the batches of these open entries active (create their records)."""
        now = self.clock.now()
        records = []
        for batch_id, account_id in {e.batch_id: e.account_id for e in entries}.items():
            record = self.schedule.batches.get(batch_id)
            if record is None:
                records.append(BatchRecord(batch_id, account_id, created_at=now))
            elif not record.active and not record.closed:
                records.append(replace(record, active=True))
        if records:
            await self.schedule.save_batches(records)

    # probe.retries

    async def on_retry(self, event: ProbeRetryV1) -> None:
        """One retry (see `apply_retries`)."""
        await self.apply_retries([event])

    async def apply_retries(self, events: Sequence[ProbeRetryV1]) -> None:
        """The classifier asks for more attempts: hold each until due, then dispatch.

        A retry for a lead the scheduler holds no entry for (never accepted here,
        or dropped with its failed or deleted batch) is skipped: only an accepted
        lead is ever dialled (a lead lost with the broker comes back by re-drive).
        """
        schedule = self.schedule
        async with schedule.lock:
            current = await self._current([e.lead_id for e in events])
            changed: dict[str, Entry] = {}
            for event in events:
                entry = changed.get(event.lead_id) or current.get(event.lead_id)
                if entry is None:
                    metrics.UNKNOWN_RETRIES.inc()
                    log.warning(
                        "retry_for_unknown_lead",
                        lead_id=event.lead_id,
                        batch_id=event.batch_id,
                        attempt=event.attempt,
                    )
                    continue
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
                    log.info(
                        "retry_ignored",
                        lead_id=event.lead_id,
                        batch_id=event.batch_id,
                        state=entry.state,
                        known_attempt=entry.attempt,
                    )
                    continue
                changed[event.lead_id] = new
                metrics.RETRIES_SCHEDULED.labels(event.reason).inc()
                log.info(
                    "retry_scheduled",
                    lead_id=event.lead_id,
                    batch_id=event.batch_id,
                    attempt=event.attempt,
                    reason=event.reason,
                    due_at=due.isoformat(),
                    avoid_trunk=event.avoid_trunk,
                )
            await schedule.commit(changed.values())

    # lead.verdicts

    async def on_verdict(self, event: LeadVerdictV1) -> None:
        """One verdict (see `apply_verdicts`)."""
        await self.apply_verdicts([event])

    async def apply_verdicts(self, events: Sequence[LeadVerdictV1]) -> None:
        """A verdict closes the outstanding probe; a final one closes the lead for good.

        A verdict for a lead with no entry (never accepted, or its batch closed)
        or already final changes nothing.
        """
        schedule = self.schedule
        async with schedule.lock:
            current = await self._current([e.lead_id for e in events])
            changed: dict[str, Entry] = {}
            now = self.clock.now()
            for event in events:
                entry = changed.get(event.lead_id) or current.get(event.lead_id)
                if entry is None:
                    log.info("verdict_for_unknown_lead", lead_id=event.lead_id)
                    continue
                if entry.dispatched_at is not None and entry.probe_id == event.probe_id:
                    metrics.PROBE_LOOP_SECONDS.observe((now - entry.dispatched_at).total_seconds())
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
                    continue
                changed[event.lead_id] = new
                if event.final:
                    metrics.FINALISED.inc()
                else:
                    metrics.RETRIES_SCHEDULED.labels("verdict").inc()
                log.info(
                    "verdict_applied",
                    lead_id=event.lead_id,
                    batch_id=event.batch_id,
                    trunk=entry.trunk,
                    final=event.final,
                    status=event.status,
                )
            await schedule.commit(changed.values())

    async def _current(self, lead_ids: Sequence[str]) -> dict[str, Entry]:
        """The entries of these leads: open ones from memory, the rest from the store."""
        found = {i: self.schedule.entries[i] for i in lead_ids if i in self.schedule.entries}
        missing = [i for i in dict.fromkeys(lead_ids) if i not in found]
        if missing:
            found.update(await self.schedule.repo.entries(missing))
        return found

    # batch.events

    async def on_batch_event(self, event: BatchEventV1) -> None:
        """Pause, resume, credit pause/resume, retention; failure and deletion close it.

        A closed batch's entries are dropped (probes out may still answer; their
        verdicts find no entry) and its reservations released (`credit`). A pause
        voids the batch's probes dispatched at or before it (the prober drops their
        requests, `lc_prober.pauses`): their leads are queued again, reservations
        kept, due `pause_requeue_after` after the pause, so that a call a prober
        started before it learnt of the pause has answered first (its verdict closes
        or advances the entry). Applied on every delivery of the pause: idempotent.
        """
        schedule = self.schedule
        async with schedule.lock:
            record = schedule.batches.get(event.batch_id) or BatchRecord(
                event.batch_id, event.account_id, created_at=self.clock.now(), active=False
            )
            new = after_batch_event(record, event.kind, event.occurred_at)
            if event.kind == "paused":
                await self._void_paused(event.batch_id, event.occurred_at)
            if new is None:
                return
            await schedule.save_batches([new])
            if new.closed:
                await self._drop_entries(event.batch_id)
        log.info("batch_event_applied", kind=event.kind, dispatchable=new.dispatchable)

    async def _void_paused(self, batch_id: str, paused_at: datetime) -> None:
        due = paused_at + self.pause_requeue_after
        voided = [
            v
            for e in self.schedule.entries.values()
            if e.batch_id == batch_id
            and (v := transitions.voided_by_pause(e, paused_at, due)) is not None
        ]
        await self.schedule.commit(voided)
        if voided:
            metrics.PAUSE_VOIDED.inc(len(voided))
            log.info("paused_probes_voided", batch_id=batch_id, count=len(voided))

    async def delete_batch(self, batch_id: str, account_id: str) -> None:
        """The batch is gone (retention): forget it and drop its dispatch entries."""
        schedule = self.schedule
        async with schedule.lock:
            record = schedule.batches.get(batch_id) or BatchRecord(
                batch_id, account_id, created_at=self.clock.now(), active=False
            )
            new = after_batch_event(record, "deleted", self.clock.now())
            if new is None:
                return
            await schedule.save_batches([new])
            await self._drop_entries(batch_id)

    async def _drop_entries(self, batch_id: str) -> None:
        dropped = await self.schedule.drop_batch(batch_id)
        self.on_closed()
        log.info("batch_closed", batch_id=batch_id, dropped=len(dropped))
