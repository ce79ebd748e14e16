"""`probe.retries`: the classifier asks for another attempt of a lead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from lc_common.events import ProbeRetryV1
from lc_scheduler import metrics
from lc_scheduler.domain import entries as transitions
from lc_scheduler.domain.entries import Entry
from lc_scheduler.domain.placing import Placing
from lc_scheduler.schedule import Schedule

log = structlog.get_logger(__name__)


@dataclass
class ProbeRetries:
    """Holds each retry until due (inside the lead's calling window), then it is dispatched."""

    schedule: Schedule
    placing: Placing

    async def handle_many(self, events: Sequence[ProbeRetryV1]) -> None:
        """Apply the retries in order, in one write.

        A retry for a lead the scheduler holds no entry for (never accepted here,
        or dropped with its failed or deleted batch) is skipped: only an accepted
        lead is ever dialled (a lead lost with the broker comes back by re-drive).
        """
        async with self.schedule.transaction() as tx:
            current = await tx.entries([e.lead_id for e in events])
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
                new = self._apply(entry, event)
                if new is not None:
                    changed[event.lead_id] = new
            await tx.commit(changed.values())

    def _apply(self, entry: Entry, event: ProbeRetryV1) -> Entry | None:
        due = self.placing.window_due(entry.country, entry.zones, event.not_before)
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
            return None
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
        return new
