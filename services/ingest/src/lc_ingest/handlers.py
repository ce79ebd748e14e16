"""What ingest does with each event it consumes: verdicts and credit changes."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import structlog

from lc_common.errors import PoisonEvent
from lc_common.events import CreditEventV1, LeadsDispatchedV1, LeadVerdictV1
from lc_common.store import to_store_time
from lc_ingest.adapters.store import IngestStore
from lc_ingest.batches import FINAL_LEAD_STATES
from lc_ingest.batches_service import BatchLifecycle
from lc_ingest.domain.progress import (
    Batch,
    counter_deltas,
    evidence_after,
    state_after_verdict,
    verdict_is_newer,
)
from lc_ingest.metrics import VERDICTS_PROJECTED

log = structlog.get_logger(__name__)


class LeadChangedMeanwhile(Exception):
    """The lead was updated between read and write; the runner retries the event."""


def _lead_fields(lead: dict[str, Any], verdict: LeadVerdictV1) -> dict[str, Any]:
    entry = {**verdict.evidence.model_dump(mode="json"), "detail": verdict.detail}
    fields: dict[str, Any] = {
        "state": state_after_verdict(verdict.status, verdict.final),
        "attempts": max(verdict.attempt, lead.get("attempts", 0)),
        "detail": verdict.detail,
        "confidence": verdict.confidence,
        "tested_at": to_store_time(verdict.evidence.tested_at),
        "next_attempt_at": verdict.next_attempt_at and to_store_time(verdict.next_attempt_at),
        "evidence": evidence_after(
            lead.get("evidence", []), verdict.attempt, verdict.probe_id, entry
        ),
        "last_probe_id": verdict.probe_id,
    }
    if verdict.final:
        fields["processed_on"] = verdict.occurred_at.date().isoformat()
        fields["finalised_at"] = to_store_time(verdict.occurred_at)
        fields["chargeable"] = verdict.chargeable
    return fields


class VerdictProjector:
    """Projects verdicts into lead rows and batch counters, idempotently.

    A verdict applies only if it is newer than what the lead holds (attempt number;
    same attempt: final over non-final); a final lead never changes again. The
    batch's counters move by the deltas of the lead's own change, written only
    after the lead's compare-and-set succeeded.
    """

    def __init__(self, store: IngestStore, lifecycle: BatchLifecycle) -> None:
        self._store = store
        self._lifecycle = lifecycle

    async def handle(self, verdict: LeadVerdictV1) -> None:
        lead = await self._store.get_lead(verdict.lead_id)
        if lead is None:
            batch = await self._store.get_batch(verdict.batch_id)
            if batch is not None and batch["status"] == "deleted":
                VERDICTS_PROJECTED.labels("purged").inc()
                return
            raise PoisonEvent(f"verdict for unknown lead {verdict.lead_id}")
        state = lead["state"]
        if state in FINAL_LEAD_STATES or state == "rejected":
            VERDICTS_PROJECTED.labels("duplicate").inc()
            return
        if not verdict_is_newer(state, lead.get("attempts", 0), verdict.attempt, verdict.final):
            VERDICTS_PROJECTED.labels("stale").inc()
            return
        fields = _lead_fields(lead, verdict)
        if not await self._store.replace_lead_state(lead, fields):
            raise LeadChangedMeanwhile(verdict.lead_id)
        deltas = counter_deltas(state, fields["state"])
        doc = await self._store.add_to_counters(verdict.batch_id, deltas)
        VERDICTS_PROJECTED.labels("applied").inc()
        if doc is None:
            return
        counted = Batch.from_doc(doc)
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
        if batch["status"] == "deleted":
            return
        by_attempt: dict[int, list[str]] = defaultdict(list)
        for lead in event.leads:
            by_attempt[lead.attempt].append(lead.lead_id)
        for attempt, lead_ids in by_attempt.items():
            # Scoped to the batch: a lead of another batch named here matches nothing.
            changed = await self._store.mark_testing(event.batch_id, lead_ids, attempt)
            if changed["retry"]:
                await self._store.add_to_counters(event.batch_id, {"retry": -changed["retry"]})


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
