"""The dispatch loop: each round sends as many due leads as the trunks can take, fairly.

A round (under the schedule's lock) computes each trunk's free room (its bound
minus its outstanding probes) and hands it out one lead at a time, taking turns
between accounts and then batches (`domain.fairness`); it pops due leads from
each batch's queue, moves any
lead outside its calling window to the window's next opening, picks a trunk
(`domain.routing`), and stores the entries as outstanding. Then, outside the
lock, it publishes the probe requests; if the broker refuses them, those
entries go back to the queue.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
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
from lc_common.trunks import Trunk
from lc_scheduler import metrics
from lc_scheduler.domain import entries as transitions
from lc_scheduler.domain.entries import Entry
from lc_scheduler.domain.fairness import Turns
from lc_scheduler.domain.retry import due_in_window
from lc_scheduler.domain.routing import carriers, choose_trunk, outstanding_bound
from lc_scheduler.domain.windows import CallingPolicy
from lc_scheduler.ports import ProbePublisher
from lc_scheduler.schedule import Schedule

log = structlog.get_logger(__name__)

# Leads a batch may skip in one turn (outside their window, or no trunk with room
# carries them) before it drops out of the round.
_MAX_SKIPS_PER_TURN = 64
# Consecutive failed publishes before the loop gives up and the process restarts.
_MAX_PUBLISH_FAILURES = 10


@dataclass
class DispatchOptions:
    """How the dispatch loop behaves."""

    interval: timedelta
    outstanding_factor: float
    probe_timeout: timedelta
    sweep_interval: timedelta
    windows_enforced: bool


class Dispatcher:
    """Runs dispatch rounds and the sweeps that keep the schedule honest."""

    def __init__(
        self,
        schedule: Schedule,
        trunks: Sequence[Trunk],
        publisher: ProbePublisher,
        clock: Clock,
        policy: CallingPolicy,
        options: DispatchOptions,
    ) -> None:
        self.schedule = schedule
        self.trunks = list(trunks)
        self.publisher = publisher
        self.clock = clock
        self.policy = policy
        self.options = options
        self.bounds = {t.name: outstanding_bound(t, options.outstanding_factor) for t in trunks}
        # False while this replica may not dispatch (its lease ran out): rounds do nothing.
        self.may_dispatch: Callable[[], bool] = lambda: True
        self._cursor = 0
        self._publish_failures = 0
        for name, bound in self.bounds.items():
            metrics.OUTSTANDING_BOUND.labels(name).set(bound)

    def free_room(self) -> dict[str, int]:
        """Per trunk, how many more probe requests may go out now."""
        out = self.schedule.outstanding
        return {name: max(0, bound - len(out[name])) for name, bound in self.bounds.items()}

    async def run_round(self) -> int:
        """One dispatch round; the number of probe requests published."""
        if not self.may_dispatch():
            return 0
        async with self.schedule.lock:
            picked = await self._pick()
        if not picked:
            return 0
        return await self._publish(picked)

    async def _pick(self) -> list[Entry]:
        now = self.clock.now()
        free = self.free_room()
        if not any(free.values()):
            return []
        schedule = self.schedule
        by_account: dict[str, list[str]] = defaultdict(list)
        for record in sorted(
            (r for r in schedule.active_batches() if r.dispatchable),
            key=lambda r: (r.created_at, r.batch_id),
        ):
            if schedule.has_due(record.batch_id, now):
                by_account[record.account_id].append(record.batch_id)
        turns = Turns(by_account, self._cursor)
        self._cursor += 1
        picked: list[Entry] = []
        changed: list[Entry] = []
        blocked: list[Entry] = []
        while any(free.values()) and (batch_id := turns.next()) is not None:
            entry = self._take_one(batch_id, now, free, changed, blocked)
            if entry is None:
                turns.drop(batch_id)
            else:
                picked.append(entry)
                changed.append(entry)
        schedule.push_back(blocked)
        await schedule.commit(changed)
        return picked

    def _take_one(
        self,
        batch_id: str,
        now: datetime,
        free: dict[str, int],
        changed: list[Entry],
        blocked: list[Entry],
    ) -> Entry | None:
        """The batch's next dispatchable lead, now outstanding on a trunk; None if none.

        Leads outside their calling window are moved to its next opening on the
        way; leads that no trunk with room can carry are set aside for this round.
        """
        for _ in range(_MAX_SKIPS_PER_TURN):
            entry = self.schedule.next_due(batch_id, now)
            if entry is None:
                return None
            trunk = choose_trunk(self.trunks, entry.e164, free, entry.avoid_trunk)
            if trunk is None:
                if not carriers(self.trunks, entry.e164):
                    log.error("no_trunk_carries", lead_id=entry.lead_id, batch_id=batch_id)
                blocked.append(entry)
                continue
            if self.options.windows_enforced and not self.policy.in_window(
                entry.country, entry.zones, now
            ):
                due = due_in_window(self.policy, entry.country, entry.zones, now)
                changed.append(transitions.deferred(entry, due))
                metrics.WINDOW_DEFERRALS.inc()
                log.info(
                    "window_deferral",
                    lead_id=entry.lead_id,
                    batch_id=batch_id,
                    due_at=due.isoformat(),
                )
                continue
            free[trunk] -= 1
            return transitions.dispatched(entry, probe_id=str(uuid.uuid4()), trunk=trunk, at=now)
        return None

    async def _publish(self, picked: list[Entry]) -> int:
        by_trunk: dict[str, list[Entry]] = defaultdict(list)
        for entry in picked:
            assert entry.trunk is not None and entry.probe_id is not None
            by_trunk[entry.trunk].append(entry)
        sent = 0
        failed: list[Entry] = []
        reported: list[Entry] = []
        for trunk, entries in by_trunk.items():
            requests = [
                (
                    e.lead_id,
                    ProbeRequestV1(
                        account_id=e.account_id,
                        batch_id=e.batch_id,
                        lead_id=e.lead_id,
                        probe_id=e.probe_id or "",
                        e164=e.e164,
                        attempt=e.attempt,
                        trunk=trunk,
                    ),
                )
                for e in entries
            ]
            try:
                await self.publisher.publish_many(probe_requests(trunk), requests)
            except Exception as exc:
                log.error("dispatch_publish_failed", trunk=trunk, error=repr(exc))
                failed.extend(entries)
                continue
            sent += len(entries)
            reported.extend(entries)
            metrics.DISPATCHED.labels(trunk).inc(len(entries))
            for e in entries:
                log.info(
                    "probe_dispatched",
                    lead_id=e.lead_id,
                    batch_id=e.batch_id,
                    trunk=trunk,
                    probe_id=e.probe_id,
                    attempt=e.attempt,
                )
        if reported:
            await self._report(reported)
        if failed:
            await self._return_unsent(failed)
        else:
            self._publish_failures = 0
        return sent

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

    async def _return_unsent(self, failed: list[Entry]) -> None:
        now = self.clock.now()
        async with self.schedule.lock:
            back = []
            for sent in failed:
                current = self.schedule.entries.get(sent.lead_id)
                if current is not None and current.probe_id == sent.probe_id:
                    requeued = transitions.requeued_after_timeout(current, now)
                    if requeued is not None:
                        back.append(requeued)
            await self.schedule.commit(back)
        self._publish_failures += 1
        if self._publish_failures >= _MAX_PUBLISH_FAILURES:
            raise RuntimeError(f"publishing probe requests failed {self._publish_failures} times")
        await self.publisher.recover()

    async def run(self) -> None:
        """Dispatch rounds until cancelled: on every wake-up, at least every interval."""
        interval = self.options.interval.total_seconds()
        while True:
            self.schedule.wake.clear()
            await self.run_round()
            try:
                async with asyncio.timeout(interval):
                    await self.schedule.wake.wait()
            except TimeoutError:
                pass
            # Let a burst of verdicts free several slots before the next round.
            await asyncio.sleep(0.02)

    async def sweep(self) -> None:
        """Re-dispatch outstanding probes that timed out; refresh the gauges."""
        now = self.clock.now()
        cutoff = now - self.options.probe_timeout
        async with self.schedule.lock:
            expired = []
            for e in self.schedule.entries.values():
                if e.state == "outstanding" and e.dispatched_at and e.dispatched_at < cutoff:
                    requeued = transitions.requeued_after_timeout(e, now)
                    if requeued is not None:
                        expired.append(requeued)
                        log.warning(
                            "probe_timed_out",
                            lead_id=e.lead_id,
                            batch_id=e.batch_id,
                            trunk=e.trunk,
                            probe_id=e.probe_id,
                            attempt=e.attempt,
                        )
            await self.schedule.commit(expired)
        if expired:
            metrics.TIMEOUT_REDISPATCHES.inc(len(expired))
            self.schedule.wake.set()
        self.refresh_gauges(now)

    def refresh_gauges(self, now: datetime) -> None:
        """Queued, due and outstanding leads per trunk."""
        queued: dict[str, int] = dict.fromkeys(self.bounds, 0)
        due: dict[str, int] = dict.fromkeys(self.bounds, 0)
        for e in self.schedule.entries.values():
            if e.state != "queued":
                continue
            for trunk in carriers(self.trunks, e.e164):
                queued[trunk.name] += 1
                if e.due_at <= now:
                    due[trunk.name] += 1
        for name in self.bounds:
            metrics.QUEUED.labels(name).set(queued[name])
            metrics.DUE.labels(name).set(due[name])
            metrics.OUTSTANDING.labels(name).set(len(self.schedule.outstanding[name]))
        self.schedule.refresh_gauges()

    async def run_sweeps(self) -> None:
        """Sweeps until cancelled."""
        while True:
            await asyncio.sleep(self.options.sweep_interval.total_seconds())
            await self.sweep()
