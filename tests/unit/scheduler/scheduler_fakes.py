"""In-memory stand-ins for the scheduler's adapters, and a harness around them."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from lc_common.clock import ManualClock
from lc_common.consumer import Bulk, Single
from lc_common.events import (
    BATCH_EVENTS,
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    LEADS_DISPATCHED,
    PROBE_RETRIES,
    BatchEventV1,
    Event,
    Evidence,
    LeadAcceptedV1,
    LeadsDispatchedV1,
    LeadVerdictV1,
    ProbeRequestV1,
    ProbeRetryV1,
    Topic,
)
from lc_common.trunks import Trunk
from lc_scheduler.adapters.billing import Reservation
from lc_scheduler.adapters.ingest import DeleteOutcome, OpenLead, OpenLeadsPage
from lc_scheduler.bootstrap import Scheduler, build
from lc_scheduler.config import SchedulerSettings
from lc_scheduler.domain.batches import BatchRecord
from lc_scheduler.domain.entries import Entry
from lc_scheduler.schedule import Schedule, Transaction

T = TypeVar("T")


class MemoryStore:
    """The schedule's record, in a dict."""

    def __init__(self) -> None:
        self.entries_by_id: dict[str, Entry] = {}
        self.batch_records: dict[str, BatchRecord] = {}
        self.epoch = 0

    async def take_over(self, epoch: int) -> None:
        self.epoch = epoch

    async def open_entries(self) -> list[Entry]:
        return [e for e in self.entries_by_id.values() if e.state != "final"]

    async def entries(self, lead_ids: Sequence[str]) -> dict[str, Entry]:
        return {i: self.entries_by_id[i] for i in lead_ids if i in self.entries_by_id}

    async def insert_new(self, entries: Sequence[Entry]) -> set[str]:
        done = set()
        for e in entries:
            if e.lead_id not in self.entries_by_id:
                self.entries_by_id[e.lead_id] = e
                done.add(e.lead_id)
        return done

    async def save(self, entries: Iterable[Entry]) -> None:
        for e in entries:
            self.entries_by_id[e.lead_id] = e

    async def delete_batch_entries(self, batch_id: str, lead_ids: Sequence[str]) -> None:
        for k in [k for k, e in self.entries_by_id.items() if e.batch_id == batch_id]:
            del self.entries_by_id[k]

    async def batches(self) -> list[BatchRecord]:
        return list(self.batch_records.values())

    async def save_batches(self, records: Iterable[BatchRecord]) -> None:
        for r in records:
            self.batch_records[r.batch_id] = r


class FakePublisher:
    """Keeps what would have been published."""

    def __init__(self) -> None:
        self.sent: list[ProbeRequestV1] = []
        self.dispatched: list[LeadsDispatchedV1] = []
        self.fail = False

    async def publish_many(self, topic: Topic | str, events: Iterable[tuple[str, Event]]) -> int:
        if self.fail:
            raise ConnectionError("broker down")
        batch = [e for _, e in events]
        if topic is LEADS_DISPATCHED:
            self.dispatched.extend(e for e in batch if isinstance(e, LeadsDispatchedV1))
            return len(batch)
        for e in batch:
            assert isinstance(e, ProbeRequestV1)
            name = topic.name if isinstance(topic, Topic) else topic
            assert name == f"probe.requests.{e.trunk}"
            self.sent.append(e)
        return len(batch)

    async def recover(self) -> None:
        return None


class FakeBilling:
    """Credit per account (None: unlimited), reservations held, releases asked."""

    def __init__(self) -> None:
        self.credit: dict[str, int | None] = {}
        self.reserved: dict[str, str] = {}  # lead id -> batch id
        self.settled: set[str] = set()
        self.calls: list[tuple[str, list[str]]] = []
        self.releases: list[str] = []
        self.down = False

    async def reserve(self, account_id: str, leads: Sequence[tuple[str, str]]) -> Reservation:
        if self.down:
            raise ConnectionError("billing down")
        self.calls.append((account_id, [lead_id for lead_id, _ in leads]))
        answer = Reservation()
        for lead_id, batch_id in leads:
            left = self.credit.get(account_id)
            if lead_id in self.settled:
                answer.settled.append(lead_id)
            elif lead_id in self.reserved:
                answer.reserved.append(lead_id)
            elif left is None or left > 0:
                self.reserved[lead_id] = batch_id
                if left is not None:
                    self.credit[account_id] = left - 1
                answer.reserved.append(lead_id)
            else:
                answer.refused.append(lead_id)
        return answer

    async def release_batch(self, batch_id: str) -> None:
        if self.down:
            raise ConnectionError("billing down")
        self.releases.append(batch_id)
        for lead_id in [k for k, b in self.reserved.items() if b == batch_id]:
            del self.reserved[lead_id]


class FakeIngest:
    """ingest's open leads, paged; and its retention deletes (batch id -> answer)."""

    def __init__(self, leads: list[OpenLead]) -> None:
        self.leads = sorted(leads, key=lambda lead: lead.lead_id)
        self.calls = 0
        self.read_before: datetime | None = None  # None: every verdict read
        self.delete_answers: dict[str, DeleteOutcome] = {}
        self.deletes: list[tuple[str, datetime]] = []

    async def delete_batch(
        self, batch_id: str, account_id: str, expired_before: datetime
    ) -> DeleteOutcome:
        self.deletes.append((batch_id, expired_before))
        return self.delete_answers.get(batch_id, "deleted")

    async def verdicts_read_before(self, now: datetime) -> datetime:
        return self.read_before or now

    async def open_leads(self, after: str | None, limit: int) -> OpenLeadsPage:
        self.calls += 1
        rest = [lead for lead in self.leads if after is None or lead.lead_id > after]
        page = rest[:limit]
        more = len(rest) > limit
        return OpenLeadsPage(leads=page, next=page[-1].lead_id if more and page else None)


TRUNKS = [
    Trunk(name="alpha", host="h", channels=2, prefixes=["+612", "+618"]),
    Trunk(name="beta", host="h", channels=3),
]


class Harness:
    """A scheduler wired to in-memory adapters and a manual clock."""

    def __init__(
        self,
        clock: ManualClock,
        *,
        trunks: list[Trunk] | None = None,
        store: MemoryStore | None = None,
        ingest: FakeIngest | None = None,
        billing: FakeBilling | None = None,
        **settings: Any,
    ) -> None:
        self.clock = clock
        self.store = store or MemoryStore()
        self.publisher = FakePublisher()
        self.ingest = ingest or FakeIngest([])
        self.billing = billing or FakeBilling()
        values: dict[str, Any] = {
            "calling_windows_enforced": True,
            "outstanding_factor": 2.0,
            "dispatch_loop_seconds": 0.0,
        }
        values.update(settings)
        self.settings = SchedulerSettings(**values)
        self.scheduler: Scheduler = build(
            self.settings,
            self.store,
            self.publisher,
            clock=clock,
            trunks=trunks or TRUNKS,
            open_leads=self.ingest,
            deleter=self.ingest,
            billing=self.billing,
            verdict_progress=self.ingest.verdicts_read_before,
        )
        self._seen = 0

    async def start(self, epoch: int = 1) -> Harness:
        await self.scheduler.start(epoch)
        self._seen = len(self.publisher.sent)
        return self

    async def deliver(self, topic: Topic, *events: Event) -> None:
        """Hand events to the scheduler as its consumer of `topic` does: a `Bulk` spec
        takes them in one call, a concurrent one all at once, any other one by one."""
        [spec] = [s for s in self.scheduler.consumers if s.topic is topic]
        if isinstance(spec.strategy, Bulk):
            await spec.strategy.handler(list(events))
            return
        if isinstance(spec.strategy, Single) and spec.strategy.concurrency > 1:
            await asyncio.gather(*(spec.handler(event) for event in events))
            return
        for event in events:
            await spec.handler(event)

    async def read(self, look: Callable[[Transaction], T]) -> T:
        """What `look` reads of the schedule, in a transaction."""
        return await read(self.scheduler.schedule, look)

    async def accept(self, *leads: LeadAcceptedV1) -> None:
        await self.deliver(LEADS_ACCEPTED, *leads)

    async def round(self) -> list[ProbeRequestV1]:
        """Run dispatch rounds until nothing more goes out; the new probe requests."""
        while await self.scheduler.dispatcher.run_round():
            pass
        new = self.publisher.sent[self._seen :]
        self._seen = len(self.publisher.sent)
        return new

    def verdict_event(
        self,
        probe: ProbeRequestV1,
        *,
        final: bool,
        status: str = "connected",
        next_attempt_at: datetime | None = None,
    ) -> LeadVerdictV1:
        return LeadVerdictV1(
            account_id=probe.account_id,
            batch_id=probe.batch_id,
            lead_id=probe.lead_id,
            probe_id=probe.probe_id,
            attempt=probe.attempt,
            status=status,  # type: ignore[arg-type]
            final=final,
            detail="test",
            confidence=90,
            evidence=Evidence(trunk=probe.trunk, codes=[180], tested_at=self.clock.now()),
            next_attempt_at=next_attempt_at,
        )

    async def verdict(
        self,
        probe: ProbeRequestV1,
        *,
        final: bool,
        status: str = "connected",
        next_attempt_at: datetime | None = None,
    ) -> None:
        event = self.verdict_event(
            probe, final=final, status=status, next_attempt_at=next_attempt_at
        )
        await self.deliver(LEAD_VERDICTS, event)

    async def verdicts(self, probes: Sequence[ProbeRequestV1], *, final: bool) -> None:
        """A verdict of each probe, delivered together (as a burst reaches the runner)."""
        events = [self.verdict_event(p, final=final) for p in probes]
        await self.deliver(LEAD_VERDICTS, *events)

    async def retry(
        self,
        probe: ProbeRequestV1,
        *,
        not_before: datetime,
        reason: str = "indeterminate",
        avoid_trunk: str | None = None,
        attempt: int | None = None,
    ) -> ProbeRetryV1:
        event = ProbeRetryV1(
            account_id=probe.account_id,
            batch_id=probe.batch_id,
            lead_id=probe.lead_id,
            e164=probe.e164,
            attempt=attempt
            if attempt is not None
            else (probe.attempt if reason == "trunk_fault" else probe.attempt + 1),
            reason=reason,  # type: ignore[arg-type]
            not_before=not_before,
            avoid_trunk=avoid_trunk,
        )
        await self.deliver(PROBE_RETRIES, event)
        return event

    async def batch_event(self, batch_id: str, kind: str, account: str = "acc_1") -> None:
        await self.deliver(
            BATCH_EVENTS,
            BatchEventV1(
                account_id=account,
                batch_id=batch_id,
                kind=kind,  # type: ignore[arg-type]
                occurred_at=self.clock.now(),
            ),
        )

    def entry(self, lead_id: str) -> Entry:
        return self.store.entries_by_id[lead_id]


def lead(batch: str, row: int, e164: str, account: str = "acc_1") -> LeadAcceptedV1:
    return LeadAcceptedV1(
        account_id=account, batch_id=batch, lead_id=f"{batch}:{row:09d}", e164=e164
    )


def replace(entry: Entry, **kw: Any) -> Entry:
    return dataclasses.replace(entry, **kw)


def batch(tx: Transaction, batch_id: str) -> BatchRecord:
    """The batch's record, which the test expects the scheduler to hold."""
    record = tx.batch(batch_id)
    assert record is not None, f"no record of {batch_id}"
    return record


async def read(schedule: Schedule, look: Callable[[Transaction], T]) -> T:
    """What `look` reads of the schedule, in a transaction."""
    async with schedule.transaction() as tx:
        return look(tx)
