"""`leads.accepted`: a lead ingest accepted joins its batch's queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from lc_common.clock import Clock
from lc_common.events import LeadAcceptedV1
from lc_scheduler.domain.placing import Placing
from lc_scheduler.schedule import Schedule

log = structlog.get_logger(__name__)


@dataclass
class LeadsAccepted:
    """Stores accepted leads as queued first attempts."""

    schedule: Schedule
    placing: Placing
    clock: Clock

    async def handle_many(self, events: Sequence[LeadAcceptedV1]) -> None:
        """Store new leads (idempotent by lead id) and queue them; a closed batch's are dropped.

        A lead already stored but not in the working copy (written by a leader
        that lost its lease meanwhile) is read back, so it is not lost.
        """
        async with self.schedule.transaction() as tx:
            known = {ev.lead_id for ev in events if tx.entry(ev.lead_id) is not None}
        # Placed outside the transaction (the costly part), so dispatch and another
        # bulk's write go on meanwhile; what changed meanwhile is filtered inside it.
        now = self.clock.now()
        placed = [
            self.placing.new_entry(
                lead_id=ev.lead_id,
                account_id=ev.account_id,
                batch_id=ev.batch_id,
                e164=ev.e164,
                now=now,
                country=ev.region,
            )
            for ev in events
            if ev.lead_id not in known
        ]
        async with self.schedule.transaction() as tx:
            new = await tx.insert(placed, self.clock.now())
        if new:
            log.info("leads_queued", count=len(new), batches=sorted({e.batch_id for e in new}))
