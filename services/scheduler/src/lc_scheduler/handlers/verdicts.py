"""`lead.verdicts`: a verdict closes the outstanding probe; a final one closes the lead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from lc_common.clock import Clock
from lc_common.events import LeadVerdictV1
from lc_scheduler import metrics
from lc_scheduler.domain import entries as transitions
from lc_scheduler.domain.entries import Entry
from lc_scheduler.domain.placing import Placing
from lc_scheduler.domain.retry import fallback_due
from lc_scheduler.schedule import Schedule

log = structlog.get_logger(__name__)


@dataclass
class LeadVerdicts:
    """Applies the classifier's verdicts to the leads' entries."""

    schedule: Schedule
    placing: Placing
    clock: Clock

    async def handle_many(self, events: Sequence[LeadVerdictV1]) -> None:
        """Apply the verdicts in order, in one write.

        A verdict for a lead with no entry (never accepted, or its batch closed)
        or already final changes nothing.
        """
        async with self.schedule.transaction() as tx:
            current = await tx.entries([e.lead_id for e in events])
            changed: dict[str, Entry] = {}
            now = self.clock.now()
            for event in events:
                entry = changed.get(event.lead_id) or current.get(event.lead_id)
                if entry is None:
                    log.info("verdict_for_unknown_lead", lead_id=event.lead_id)
                    continue
                new = self._apply(entry, event, now)
                if new is not None:
                    changed[event.lead_id] = new
            await tx.commit(changed.values())

    def _apply(self, entry: Entry, event: LeadVerdictV1, now: datetime) -> Entry | None:
        if entry.dispatched_at is not None and entry.probe_id == event.probe_id:
            metrics.PROBE_LOOP_SECONDS.observe((now - entry.dispatched_at).total_seconds())
        next_at = event.next_attempt_at
        if not event.final and next_at is None:
            next_at = fallback_due(event.attempt + 1, now, self.placing.retry_schedule)
        if next_at is not None:
            next_at = self.placing.window_due(entry.country, entry.zones, next_at)
        new = transitions.after_verdict(
            entry, attempt=event.attempt, final=event.final, now=now, next_attempt_at=next_at
        )
        if new is None:
            return None
        if event.final:
            metrics.FINALISED.inc()
        else:
            metrics.RETRIES_SCHEDULED.labels("verdict").inc()
        log.info("verdict_applied", **entry.log_ids(), final=event.final, status=event.status)
        return new
