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
from lc_ingest.metrics import VERDICTS_PROJECTED

log = structlog.get_logger(__name__)


class LeadChangedMeanwhile(Exception):
    """The lead was updated between read and write; the runner retries the event."""


def _lead_fields(lead: dict[str, Any], verdict: LeadVerdictV1) -> dict[str, Any]:
    evidence = verdict.evidence.model_dump(mode="json")
    fields: dict[str, Any] = {
        "state": verdict.status if verdict.final else "retry",
        "attempts": max(verdict.attempt, lead.get("attempts", 0)),
        "detail": verdict.detail,
        "confidence": verdict.confidence,
        "tested_at": to_store_time(verdict.evidence.tested_at),
        "next_attempt_at": verdict.next_attempt_at and to_store_time(verdict.next_attempt_at),
        "evidence": [*lead.get("evidence", []), {**evidence, "detail": verdict.detail}],
        "last_probe_id": verdict.probe_id,
    }
    if verdict.final:
        fields["processed_on"] = verdict.occurred_at.date().isoformat()
        fields["finalised_at"] = to_store_time(verdict.occurred_at)
    return fields


class VerdictProjector:
    """Projects verdicts into lead rows and batch counters, idempotently.

    A lead's monotonic key is its attempt number: a non-final verdict that is not
    newer than what the lead shows is a duplicate; a final lead never changes again.
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
        if not verdict.final and verdict.attempt <= lead.get("attempts", 0) and state == "retry":
            VERDICTS_PROJECTED.labels("stale").inc()
            return
        fields = _lead_fields(lead, verdict)
        if not await self._store.replace_lead_state(lead, fields):
            raise LeadChangedMeanwhile(verdict.lead_id)
        deltas = {"retry": (fields["state"] == "retry") - (state == "retry")}
        if verdict.final:
            deltas[verdict.status] = 1
        batch = await self._store.add_to_counters(verdict.batch_id, deltas)
        VERDICTS_PROJECTED.labels("applied").inc()
        if batch is None:
            return
        if batch["status"] == "queued":
            await self._lifecycle.mark_running(batch["_id"])
        processed = batch["connected"] + batch["disconnected"] + batch["indeterminate"]
        if verdict.final and processed >= batch["accepted"]:
            await self._lifecycle.finish_if_done(batch["_id"])


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
            if lead.attempt < 1 or not lead.lead_id.startswith(f"{event.batch_id}:"):
                raise PoisonEvent(f"impossible dispatch of {lead.lead_id} attempt {lead.attempt}")
            by_attempt[lead.attempt].append(lead.lead_id)
        for attempt, lead_ids in by_attempt.items():
            changed = await self._store.mark_testing(lead_ids, attempt)
            if changed["retry"]:
                await self._store.add_to_counters(event.batch_id, {"retry": -changed["retry"]})


class CreditHandler:
    """Pauses an account's batches when its credit runs out, resumes them when it is back."""

    def __init__(self, lifecycle: BatchLifecycle) -> None:
        self._lifecycle = lifecycle

    async def handle(self, event: CreditEventV1) -> None:
        if event.kind == "restored" and event.balance <= 0:
            raise PoisonEvent(f"credit restored to a balance of {event.balance}")
        if event.kind == "exhausted":
            await self._lifecycle.pause_for_credit(event.account_id)
        else:
            await self._lifecycle.resume_after_credit(event.account_id)
