"""`lc_ingest.ports.IngestStore` in memory, with the Mongo adapter's semantics (conditional
writes, `$inc`, insert keeping existing leads), so ingest's rules run without MongoDB."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from lc_common.events import Event, Topic
from lc_ingest.domain.batch import COUNTERS, OPEN_LEAD_STATES, Batch, BatchStatus, Counters
from lc_ingest.domain.lead import Lead, LeadSummary

_BATCH_FIELDS = {f.name for f in fields(Batch)}


class FakeIngestStore:
    """Batches, leads and credit states in dicts; `announced` holds each batch's outbox."""

    def __init__(self) -> None:
        self.batches: dict[str, Batch] = {}
        self.leads: dict[str, Lead] = {}
        self.credit: dict[str, tuple[str, datetime]] = {}
        self.announced: dict[str, list[Event]] = {}

    # batches
    async def create_batch(self, batch: Batch) -> None:
        if batch.id in self.batches:
            raise KeyError(f"duplicate batch {batch.id}")
        self.batches[batch.id] = batch

    async def get_batch(self, batch_id: str, account_id: str | None = None) -> Batch | None:
        batch = self.batches.get(batch_id)
        if batch is None or (account_id is not None and batch.account_id != account_id):
            return None
        return batch

    async def list_batches(self, account_id: str) -> list[Batch]:
        mine = [b for b in self.batches.values() if b.account_id == account_id]
        return sorted(mine, key=lambda b: b.submitted_at or datetime.min, reverse=True)

    async def batches_with_status(
        self, statuses: Sequence[BatchStatus], account_id: str | None = None
    ) -> list[Batch]:
        return [
            b
            for b in self.batches.values()
            if b.status in statuses and account_id in (None, b.account_id)
        ]

    async def update_batch(
        self,
        batch_id: str,
        fields: Mapping[str, object],
        *,
        only_if_status: Sequence[BatchStatus] = (),
        expected_counters: Counters | None = None,
        announce: Event | None = None,
    ) -> Batch | None:
        batch = self.batches.get(batch_id)
        if batch is None:
            return None
        if only_if_status and batch.status not in only_if_status:
            return None
        if expected_counters is not None and batch.counters != expected_counters:
            return None
        counts = {k: v for k, v in fields.items() if k in COUNTERS}
        # Fields the domain never reads back (`deleted_at`, the detected encoding) are dropped.
        rest: dict[str, Any] = {k: v for k, v in fields.items() if k in _BATCH_FIELDS}
        if "header" in rest:
            rest["header"] = tuple(rest["header"])
        batch = replace(batch, **rest, counters=replace(batch.counters, **counts))
        self.batches[batch_id] = batch
        if announce is not None:
            self.announced.setdefault(batch_id, []).append(announce)
        return batch

    async def add_to_counters(self, batch_id: str, deltas: Mapping[str, int]) -> Batch | None:
        batch = self.batches.get(batch_id)
        if batch is None:
            return None
        held = batch.counters.as_dict()
        counts = {name: held[name] + n for name, n in deltas.items()}
        batch = replace(batch, counters=replace(batch.counters, **counts))
        self.batches[batch_id] = batch
        return batch

    # leads
    async def insert_leads(self, leads: Sequence[Lead]) -> int:
        new = [lead for lead in leads if lead.id not in self.leads]
        self.leads.update((lead.id, lead) for lead in new)
        return len(new)

    async def mark_testing(
        self, batch_id: str, lead_ids: Sequence[str], attempt: int
    ) -> dict[str, int]:
        changed = {"pending": 0, "retry": 0}
        for lead_id in lead_ids:
            lead = self.leads.get(lead_id)
            if lead is None or lead.batch_id != batch_id or lead.attempts >= attempt:
                continue
            if lead.state in changed:
                changed[lead.state] += 1
                self.leads[lead_id] = replace(lead, state="testing")
        return changed

    async def get_lead(self, lead_id: str) -> Lead | None:
        return self.leads.get(lead_id)

    async def save_verdict(self, before: Lead, after: Lead) -> bool:
        held = self.leads.get(before.id)
        if held is None or (held.state, held.attempts) != (before.state, before.attempts):
            return False
        self.leads[before.id] = after
        return True

    async def leads_by_id(self, lead_ids: Sequence[str]) -> list[LeadSummary]:
        return [self.leads[i].summary() for i in lead_ids if i in self.leads]

    async def iter_leads(
        self, batch_id: str, finalised_between: tuple[datetime, datetime] | None = None
    ) -> AsyncIterator[Lead]:
        for lead_id in sorted(self.leads):
            lead = self.leads[lead_id]
            if lead.batch_id != batch_id:
                continue
            if finalised_between is not None:
                start, end = finalised_between
                if lead.finalised_at is None or not start <= lead.finalised_at < end:
                    continue
            yield lead

    async def count_states(self, batch_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for lead in self.leads.values():
            if lead.batch_id == batch_id:
                counts[lead.state] = counts.get(lead.state, 0) + 1
        return counts

    async def daily_counts(
        self, account_id: str, between: tuple[datetime, datetime]
    ) -> dict[str, dict[str, int]]:
        start, end = between
        counts: dict[str, dict[str, int]] = {}
        for lead in self.leads.values():
            done = lead.finalised_at
            if lead.account_id == account_id and done is not None and start <= done < end:
                per_state = counts.setdefault(lead.batch_id, {})
                per_state[lead.state] = per_state.get(lead.state, 0) + 1
        return counts

    async def open_leads(self, after: str, limit: int) -> list[LeadSummary]:
        ids = [i for i in sorted(self.leads) if i > after]
        found = [self.leads[i] for i in ids if self.leads[i].state in OPEN_LEAD_STATES]
        return [lead.summary() for lead in found[:limit]]

    async def purge_leads(self, batch_id: str) -> int:
        gone = [i for i, lead in self.leads.items() if lead.batch_id == batch_id]
        for lead_id in gone:
            del self.leads[lead_id]
        return len(gone)

    # accounts
    async def record_credit(self, account_id: str, state: str, at: datetime) -> bool:
        held = self.credit.get(account_id)
        if held is not None and held[1] >= at:
            return False
        self.credit[account_id] = (state, at)
        return True

    async def credit_state(self, account_id: str) -> str | None:
        held = self.credit.get(account_id)
        return None if held is None else held[0]


class FakePublisher:
    """Keeps what would be published, per topic name."""

    def __init__(self) -> None:
        self.sent: dict[str, list[tuple[str, Event]]] = {}

    async def publish_many(self, topic: Topic | str, events: Iterable[tuple[str, Event]]) -> int:
        name = topic.name if isinstance(topic, Topic) else topic
        batch = list(events)
        self.sent.setdefault(name, []).extend(batch)
        return len(batch)
