"""The dispatch outbox relay (docs/invariants.md I7): publish every unsent probe request.

A dispatch round stores its leads as outstanding with `sent` false; this relay
(after each round, at startup, and from the periodic sweep) publishes the probe
request of every outstanding, unsent entry and then marks it sent. A crash
between the write and the publish delays the request until the next leader's
first relay; it never loses it. Requests carry the leader's epoch and expire
(`expires_at`) before the sweep could dispatch their lead again less the
longest call, so a request published late never rings beside its successor;
one already expired is not published but its lead queued again at once.
The relay publishes only while this replica may dispatch (its lease holds) and
its schedule was never fenced out by a newer leader.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from lc_common.clock import Clock
from lc_common.events import (
    LEADS_DISPATCHED,
    DispatchedLead,
    LeadsDispatchedV1,
    ProbeRequestV1,
    probe_requests,
)
from lc_scheduler import metrics
from lc_scheduler.domain import entries as transitions
from lc_scheduler.domain.entries import Entry
from lc_scheduler.ports import ProbePublisher
from lc_scheduler.schedule import Schedule

log = structlog.get_logger(__name__)

# Consecutive failed publishes before the relay gives up and the process restarts.
_MAX_PUBLISH_FAILURES = 10


@dataclass
class Lifetime:
    """How long a probe request may still be dialled after its dispatch."""

    expiry: timedelta

    def expires_at(self, entry: Entry) -> datetime:
        assert entry.dispatched_at is not None
        return entry.dispatched_at + self.expiry


class Relay:
    """Publishes outstanding, unsent probe requests and marks them sent."""

    def __init__(
        self,
        schedule: Schedule,
        publisher: ProbePublisher,
        clock: Clock,
        lifetime: Lifetime,
    ) -> None:
        self.schedule = schedule
        self.publisher = publisher
        self.clock = clock
        self.lifetime = lifetime
        # The lease epoch of this leader's term, and whether it still holds the lease.
        self.epoch: Callable[[], int] = lambda: 0
        self.may_publish: Callable[[], bool] = lambda: True
        self._lock = asyncio.Lock()
        self._failures = 0

    async def publish_unsent(self) -> int:
        """Publish every unsent request once; the number published."""
        async with self._lock:  # two passes at once would publish a request twice
            if self.schedule.lost or not self.may_publish():
                return 0
            unsent = await self._take_unsent()
            if not unsent:
                return 0
            by_trunk: dict[str, list[Entry]] = defaultdict(list)
            for entry in unsent:
                assert entry.trunk is not None
                by_trunk[entry.trunk].append(entry)
            sent: list[Entry] = []
            failed = False
            for trunk, entries in by_trunk.items():
                requests = [(e.lead_id, self._request(e)) for e in entries]
                try:
                    await self.publisher.publish_many(probe_requests(trunk), requests)
                except Exception as exc:
                    log.error("dispatch_publish_failed", trunk=trunk, error=repr(exc))
                    failed = True
                    continue
                sent.extend(entries)
                metrics.DISPATCHED.labels(trunk).inc(len(entries))
            await self._mark_sent(sent)
            if sent:
                await self._report(sent)
            if failed:
                await self._failed()
            else:
                self._failures = 0
            return len(sent)

    async def _take_unsent(self) -> list[Entry]:
        """The unsent entries to publish; expired ones are queued again instead."""
        now = self.clock.now()
        async with self.schedule.transaction() as tx:
            unsent = tx.unsent()
            expired = [e for e in unsent if self.lifetime.expires_at(e) <= now]
            requeued = [
                r for e in expired if (r := transitions.requeued_after_timeout(e, now)) is not None
            ]
            await tx.commit(requeued)
        for e in expired:
            log.warning("probe_expired_unsent", lead_id=e.lead_id, batch_id=e.batch_id)
        if expired:
            self.schedule.wake.set()
        gone = {e.lead_id for e in expired}
        return [e for e in unsent if e.lead_id not in gone]

    def _request(self, e: Entry) -> ProbeRequestV1:
        assert e.trunk is not None and e.probe_id is not None
        return ProbeRequestV1(
            account_id=e.account_id,
            batch_id=e.batch_id,
            lead_id=e.lead_id,
            probe_id=e.probe_id,
            e164=e.e164,
            attempt=e.attempt,
            trunk=e.trunk,
            epoch=self.epoch(),
            expires_at=self.lifetime.expires_at(e),
            dispatched_at=e.dispatched_at,
        )

    async def _mark_sent(self, sent: list[Entry]) -> None:
        async with self.schedule.transaction() as tx:
            # Only entries unchanged meanwhile: a verdict may have closed the probe already.
            marked = [
                transitions.published(current)
                for e in sent
                if (current := tx.entry(e.lead_id)) is not None
                and current.probe_id == e.probe_id
                and not current.sent
            ]
            await tx.commit(marked)
        for e in sent:
            log.info("probe_dispatched", **e.log_ids())

    async def _report(self, sent: list[Entry]) -> None:
        """Tell ingest which leads are being tested now, one event per batch.

        Only what the client sees depends on it (`testing`; the verdict supersedes
        it), so a failure is logged and dispatch goes on.
        """
        by_batch: dict[tuple[str, str], list[DispatchedLead]] = defaultdict(list)
        for e in sent:
            by_batch[(e.account_id, e.batch_id)].append(
                DispatchedLead(lead_id=e.lead_id, attempt=e.attempt)
            )
        events = [
            (batch_id, LeadsDispatchedV1(account_id=account_id, batch_id=batch_id, leads=leads))
            for (account_id, batch_id), leads in by_batch.items()
        ]
        try:
            await self.publisher.publish_many(LEADS_DISPATCHED, events)
        except Exception as exc:
            log.warning("dispatch_report_failed", batches=len(events), error=repr(exc))

    async def _failed(self) -> None:
        # The requests stay unsent: the next pass publishes them.
        self._failures += 1
        if self._failures >= _MAX_PUBLISH_FAILURES:
            raise RuntimeError(f"publishing probe requests failed {self._failures} times")
        await self.publisher.recover()
