"""Re-drive: take back every lead ingest still counts as open.

If the broker lost its data, leads accepted but never read, and retries never
delivered, are gone from the topics but not from ingest's database. A re-drive
pages through ingest's open leads and inserts each one the scheduler does not
know; one it closed with a final verdict long ago (that ingest never got) is
tested again, but only once ingest has read every verdict published before it
was closed (`verdicts_read_before`): an ingest restarting or catching up holds
leads open whose verdicts merely wait for it, and taking those back would ring
their numbers again. Only leads ingest reports non-final are taken, and none of
a failed or deleted batch. Finalisation stays exactly-once downstream: ingest and
billing ignore a second final verdict, a reopened lead billing already charged
is called without a new reservation (it answers `settled`; the call only gets
ingest the verdict it lost), and the classifier answers a call of a lead already
final with its final verdict again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from lc_common.clock import Clock
from lc_scheduler import metrics
from lc_scheduler.adapters.ingest import OpenLeadsPage
from lc_scheduler.domain import entries as transitions
from lc_scheduler.domain.placing import Placing
from lc_scheduler.ports import OpenLeadsSource, VerdictProgress
from lc_scheduler.schedule import Schedule

log = structlog.get_logger(__name__)


@dataclass
class RedriveResult:
    """What the last re-drive did."""

    started_at: datetime | None = None
    finished_at: datetime | None = None
    seen: int = 0
    inserted: int = 0
    reopened: int = 0
    deferred: int = 0
    error: str | None = None
    running: bool = False


@dataclass
class Redriver:
    """Runs re-drives, one at a time."""

    schedule: Schedule
    placing: Placing
    source: OpenLeadsSource
    clock: Clock
    page_size: int
    final_grace: timedelta
    verdicts_read_before: VerdictProgress | None = None
    """How far ingest has read the verdicts (None: assume it has read all)."""
    last: RedriveResult = field(default_factory=RedriveResult)
    _task: asyncio.Task[None] | None = None

    def start(self) -> bool:
        """Start a re-drive in the background; False if one is already running."""
        if self._task is not None and not self._task.done():
            return False
        self._task = asyncio.create_task(self._run_logged(), name="redrive")
        return True

    async def _run_logged(self) -> None:
        try:
            await self.run()
        except Exception as exc:  # reported by the endpoint, retried by the caller
            log.error("redrive_failed", error=repr(exc))

    async def run(self) -> RedriveResult:
        """Page through ingest's open leads once; raises if ingest does not answer."""
        result = RedriveResult(started_at=self.clock.now(), running=True)
        self.last = result
        try:
            reopen_before = await self._reopen_before()
            after: str | None = None
            while True:
                page = await self.source.open_leads(after, self.page_size)
                await self._take(page, result, reopen_before)
                if not page.next or not page.leads:
                    break
                after = page.next
        except Exception as exc:
            result.error = repr(exc)
            raise
        finally:
            result.running = False
            result.finished_at = self.clock.now()
        log.info(
            "redrive_done",
            seen=result.seen,
            inserted=result.inserted,
            reopened=result.reopened,
            deferred=result.deferred,
        )
        return result

    async def _reopen_before(self) -> datetime | None:
        """Leads closed before this time and still open at ingest lost their verdict;
        None if that cannot be told now (nothing is reopened this time)."""
        now = self.clock.now()
        cutoff = now - self.final_grace
        if self.verdicts_read_before is None:
            return cutoff
        try:
            return min(cutoff, await self.verdicts_read_before(now))
        except Exception as exc:  # the next re-drive asks again
            log.warning("redrive_ingest_progress_unknown", error=repr(exc))
            return None

    async def _take(
        self, page: OpenLeadsPage, result: RedriveResult, reopen_before: datetime | None
    ) -> None:
        result.seen += len(page.leads)
        async with self.schedule.transaction() as tx:
            unknown = [
                lead for lead in page.leads if tx.entry(lead.lead_id) is None and not lead.final
            ]
            stored = await tx.entries([lead.lead_id for lead in unknown])
            now = self.clock.now()
            fresh, reopen = [], []
            for lead in unknown:
                record = tx.batch(lead.batch_id)
                if record is not None and record.closed:
                    continue
                entry = stored.get(lead.lead_id)
                if entry is None:
                    fresh.append(
                        self.placing.new_entry(
                            lead_id=lead.lead_id,
                            account_id=lead.account_id,
                            batch_id=lead.batch_id,
                            e164=lead.e164,
                            now=now,
                        )
                    )
                elif entry.state != "final":
                    continue
                elif reopen_before is not None and (
                    entry.finalised_at is None or entry.finalised_at < reopen_before
                ):
                    reopen.append(transitions.reopened(entry, now))
                elif entry.finalised_at is None or entry.finalised_at < now - self.final_grace:
                    result.deferred += 1
                    metrics.REDRIVEN.labels("deferred").inc()
            new_entries = await tx.insert(fresh, now)
            await tx.activate(reopen, now)
            await tx.commit(reopen)
        result.inserted += len(new_entries)
        result.reopened += len(reopen)
        metrics.REDRIVEN.labels("inserted").inc(len(new_entries))
        metrics.REDRIVEN.labels("reopened").inc(len(reopen))
        for e in (*new_entries, *reopen):
            log.info("lead_redriven", lead_id=e.lead_id, batch_id=e.batch_id)

    async def run_every(self, interval: float) -> None:
        """Re-drive every `interval` seconds (skipping a turn while one is running).

        A broker restarted empty can lose a final verdict after the operator's re-drive
        too: a consumer's commit retried until the new broker answered moves its group
        past records of the recreated topic it never read. Ingest then holds the lead
        open for good; this turns it up within `interval` plus the final grace.
        """
        while True:
            await asyncio.sleep(interval)
            if self.start():
                assert self._task is not None
                await self._task

    async def run_at_startup(self, max_backoff: float = 60.0) -> None:
        """Re-drive once, retrying until ingest answers (it may start after us)."""
        delay = 1.0
        while True:
            try:
                await self.run()
                return
            except Exception as exc:
                log.warning("startup_redrive_retry", error=repr(exc), in_seconds=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_backoff)
