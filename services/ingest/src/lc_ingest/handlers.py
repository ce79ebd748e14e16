"""What ingest does with each event it consumes: verdicts and credit changes."""

from __future__ import annotations

from collections import defaultdict

import structlog

from lc_common.errors import PoisonEvent
from lc_common.events import CreditEventV1, LeadsDispatchedV1, LeadVerdictV1
from lc_ingest.domain.lead import apply_verdict, testing_deltas
from lc_ingest.lifecycle import BatchLifecycle
from lc_ingest.metrics import VERDICTS_PROJECTED
from lc_ingest.ports import IngestStore

log = structlog.get_logger(__name__)


class LeadChangedMeanwhile(Exception):
    """The lead was updated between read and write; the runner retries the event."""


class VerdictProjector:
    """Projects verdicts into lead rows and batch counters, idempotently.

    A verdict applies only if it is newer than what the lead holds (attempt number;
    same attempt: final over non-final); a final lead never changes again
    (`lc_ingest.domain.lead.apply_verdict`). The batch's counters move by the deltas
    of the lead's own change, written only after the lead's compare-and-set
    succeeded: a crash between the two leaves a drift the reconciler corrects.
    """

    def __init__(self, store: IngestStore, lifecycle: BatchLifecycle) -> None:
        self._store = store
        self._lifecycle = lifecycle

    async def handle(self, verdict: LeadVerdictV1) -> None:
        lead = await self._store.get_lead(verdict.lead_id)
        if lead is None:
            batch = await self._store.get_batch(verdict.batch_id)
            if batch is not None and batch.status == "deleted":
                VERDICTS_PROJECTED.labels("purged").inc()
                return
            raise PoisonEvent(f"verdict for unknown lead {verdict.lead_id}")
        change = apply_verdict(lead, verdict)
        if change.outcome != "applied":
            VERDICTS_PROJECTED.labels(change.outcome).inc()
            return
        if not await self._store.save_verdict(lead, change.after):
            raise LeadChangedMeanwhile(verdict.lead_id)
        counted = await self._store.add_to_counters(verdict.batch_id, change.deltas)
        VERDICTS_PROJECTED.labels("applied").inc()
        if counted is None:
            return
        if counted.status == "queued":
            await self._lifecycle.mark_running(counted.id)
        if verdict.final and counted.finishable:
            await self._lifecycle.finish_if_done(counted.id)


class TestingProjector:
    """Leads the scheduler just dispatched show `testing` until their verdict.

    Idempotent: only a pending or retry lead whose last judged attempt is older
    than the one dispatched changes, so a redelivered or late report (the
    verdict came first) changes nothing. A lead leaving `retry` leaves the
    batch's Retry counter.
    """

    def __init__(self, store: IngestStore) -> None:
        self._store = store

    async def handle(self, event: LeadsDispatchedV1) -> None:
        batch = await self._store.get_batch(event.batch_id)
        if batch is None:
            raise PoisonEvent(f"leads dispatched of unknown batch {event.batch_id}")
        if batch.status == "deleted":
            return
        by_attempt: dict[int, list[str]] = defaultdict(list)
        for lead in event.leads:
            by_attempt[lead.attempt].append(lead.lead_id)
        for attempt, lead_ids in by_attempt.items():
            # Scoped to the batch: a lead of another batch named here matches nothing.
            left = await self._store.mark_testing(event.batch_id, lead_ids, attempt)
            if deltas := testing_deltas(left):
                await self._store.add_to_counters(event.batch_id, deltas)


class CreditHandler:
    """Keeps each account's last credit state (by event time, so a replayed or older event
    changes nothing) and brings its batches in line: exhausted pauses every active batch
    (`paused_no_credit`), restored resumes every such batch, including ones imported
    meanwhile. Batches queued later read the kept state (`BatchLifecycle.complete_import`).
    """

    def __init__(self, store: IngestStore, lifecycle: BatchLifecycle) -> None:
        self._store = store
        self._lifecycle = lifecycle

    async def handle(self, event: CreditEventV1) -> None:
        if event.kind == "restored" and event.balance <= 0:
            raise PoisonEvent(f"credit restored to a balance of {event.balance}")
        changed = await self._store.record_credit(event.account_id, event.kind, event.occurred_at)
        log.info("credit_state", account_id=event.account_id, kind=event.kind, changed=changed)
        # Settled from the kept state even when unchanged: heals a crash after the record.
        await self._lifecycle.settle_credit(event.account_id)
