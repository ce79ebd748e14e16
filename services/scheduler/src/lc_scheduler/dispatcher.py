"""The dispatch loop: each round sends as many due leads as the trunks can take, fairly.

A round has three steps. In one schedule transaction it computes each trunk's
free room (its bound minus its outstanding probes) and hands it out one lead at
a time, taking turns between accounts and then batches (`domain.fairness`); it
pops due leads from each batch's queue, moves any lead outside its calling
window to the window's next opening, and picks a trunk (`domain.routing`).
Outside any transaction it asks billing for a reservation of every picked lead,
one request per account (`credit`; blocked accounts are skipped). In a second
transaction it stores the reserved leads as outstanding and unsent, closes the
settled ones, and puts the rest back unchanged. Then the relay publishes the
probe requests (`relay`). Rounds never overlap, so a lead is never picked by
two of them."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog

from lc_common.clock import Clock
from lc_common.trunks import Trunk
from lc_scheduler import metrics
from lc_scheduler.adapters.billing import RESERVE_MAX, Reservation
from lc_scheduler.credit import Credit
from lc_scheduler.domain import entries as transitions
from lc_scheduler.domain.entries import Entry
from lc_scheduler.domain.fairness import Turns
from lc_scheduler.domain.retry import due_in_window
from lc_scheduler.domain.routing import carriers, choose_trunk, outstanding_bound
from lc_scheduler.domain.windows import CallingPolicy
from lc_scheduler.relay import Relay
from lc_scheduler.schedule import Schedule, Transaction

log = structlog.get_logger(__name__)

# Leads a batch may skip in one turn (outside their window, or no trunk with room
# carries them) before it drops out of the round.
_MAX_SKIPS_PER_TURN = 64

# A lead picked for a trunk, waiting for its reservation.
Pick = tuple[Entry, str]


@dataclass
class DispatchOptions:
    """How the dispatch loop behaves."""

    interval: timedelta
    outstanding_factor: float
    loop_seconds: float
    probe_timeout: timedelta
    sweep_interval: timedelta
    windows_enforced: bool


class Dispatcher:
    """Runs dispatch rounds and the sweeps that keep the schedule honest."""

    def __init__(
        self,
        schedule: Schedule,
        trunks: Sequence[Trunk],
        relay: Relay,
        credit: Credit,
        clock: Clock,
        policy: CallingPolicy,
        options: DispatchOptions,
    ) -> None:
        self.schedule = schedule
        self.trunks = list(trunks)
        self.relay = relay
        self.credit = credit
        self.clock = clock
        self.policy = policy
        self.options = options
        self.bounds = {
            t.name: outstanding_bound(t, options.outstanding_factor, options.loop_seconds)
            for t in trunks
        }
        # False while this replica may not dispatch (its lease ran out): rounds do nothing.
        self.may_dispatch: Callable[[], bool] = lambda: True
        self._cursor = 0
        self._round = asyncio.Lock()
        for name, bound in self.bounds.items():
            metrics.OUTSTANDING_BOUND.labels(name).set(bound)

    def free_room(self, tx: Transaction) -> dict[str, int]:
        """Per trunk, how many more probe requests may go out now."""
        return {
            name: max(0, bound - len(tx.outstanding(name))) for name, bound in self.bounds.items()
        }

    async def run_round(self) -> int:
        """One dispatch round, then a relay pass; the number of probe requests published."""
        if not self.may_dispatch():
            return 0
        async with self._round:
            async with self.schedule.transaction() as tx:
                picked = await self._pick(tx)
            if picked:
                answers = await self.credit.reserve([entry for entry, _ in picked])
                async with self.schedule.transaction() as tx:
                    await self._commit(tx, picked, answers)
        return await self.relay.publish_unsent()

    async def _pick(self, tx: Transaction) -> list[Pick]:
        now = self.clock.now()
        free = self.free_room(tx)
        if not any(free.values()):
            return []
        by_account: dict[str, list[str]] = defaultdict(list)
        allowance: dict[str, int] = {}
        account_of: dict[str, str] = {}
        for record in sorted(
            (r for r in tx.active_batches() if r.dispatchable),
            key=lambda r: (r.created_at, r.batch_id),
        ):
            account = account_of[record.batch_id] = record.account_id
            if account not in allowance:
                # Blocked for credit: none, or one lead to re-check; else one request's worth.
                allowed = self.credit.blocks.allowance(account, now)
                allowance[account] = RESERVE_MAX if allowed is None else allowed
            if allowance[account] and tx.has_due(record.batch_id, now):
                by_account[account].append(record.batch_id)
        turns = Turns(by_account, self._cursor)
        self._cursor += 1
        picked: list[Pick] = []
        changed: list[Entry] = []
        blocked: list[Entry] = []
        while any(free.values()) and (batch_id := turns.next()) is not None:
            account = account_of[batch_id]
            taken = self._take_one(tx, batch_id, now, free, changed, blocked)
            if taken is None:
                turns.drop(batch_id)
                continue
            picked.append(taken)
            allowance[account] -= 1
            if not allowance[account]:
                for other in by_account[account]:
                    turns.drop(other)
        tx.push_back(blocked)
        await tx.commit(changed)
        return picked

    async def _commit(
        self, tx: Transaction, picked: list[Pick], answers: dict[str, Reservation | None]
    ) -> None:
        """Store reserved leads as outstanding (unsent), close settled ones, put the rest back."""
        now = self.clock.now()
        changed: list[Entry] = []
        back: list[Entry] = []
        reopened_batches: set[str] = set()
        granted = {
            account: (set(a.reserved), set(a.settled))
            for account, a in answers.items()
            if a is not None
        }
        for entry, trunk in picked:
            reserved, settled = granted.get(entry.account_id, (set(), set()))
            current = tx.entry(entry.lead_id)
            if current is None or current.rev != entry.rev:
                # A verdict, a retry or its batch closing changed it meanwhile: that stands.
                if entry.lead_id in reserved:
                    reopened_batches.add(entry.batch_id)
                continue
            record = tx.batch(entry.batch_id)
            # A lead re-driven because ingest never got its final verdict is tested
            # again even though billing already charged it: without the call, ingest
            # would hold it open for good. Its unit was charged once, so none is reserved.
            retest = entry.lead_id in settled and entry.last_reason == transitions.REDRIVE
            if entry.lead_id in settled and not retest:
                changed.append(transitions.settled(entry, now))
                log.info("lead_settled", lead_id=entry.lead_id, batch_id=entry.batch_id)
            elif (
                (entry.lead_id in reserved or retest) and record is not None and record.dispatchable
            ):
                probe_id = str(uuid.uuid4())
                changed.append(
                    transitions.dispatched(entry, probe_id=probe_id, trunk=trunk, at=now)
                )
            else:
                back.append(entry)
        tx.push_back(back)
        await tx.commit(changed)
        await self._release_again(tx, reopened_batches)

    async def _release_again(self, tx: Transaction, batch_ids: set[str]) -> None:
        """A batch closed while its leads' reservations were asked for: release it again."""
        records = [
            replace(r, release_pending=True)
            for b in batch_ids
            if (r := tx.batch(b)) is not None and r.closed
        ]
        if records:
            await tx.save_batches(records)
            self.credit.release_wake.set()

    def _take_one(
        self,
        tx: Transaction,
        batch_id: str,
        now: datetime,
        free: dict[str, int],
        changed: list[Entry],
        blocked: list[Entry],
    ) -> Pick | None:
        """The batch's next dispatchable lead and the trunk for it; None if none.

        Leads outside their calling window are moved to its next opening on the
        way; leads that no trunk with room can carry are set aside for this round.
        """
        for _ in range(_MAX_SKIPS_PER_TURN):
            entry = tx.next_due(batch_id, now)
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
            return entry, trunk
        return None

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
        """Re-dispatch outstanding probes that timed out, relay unsent ones; refresh gauges."""
        now = self.clock.now()
        cutoff = now - self.options.probe_timeout
        async with self.schedule.transaction() as tx:
            expired = []
            for e in tx.open_entries():
                if e.state == "outstanding" and e.dispatched_at and e.dispatched_at < cutoff:
                    requeued = transitions.requeued_after_timeout(e, now)
                    if requeued is not None:
                        expired.append(requeued)
                        log.warning("probe_timed_out", **e.log_ids())
            await tx.commit(expired)
        if expired:
            metrics.TIMEOUT_REDISPATCHES.inc(len(expired))
            self.schedule.wake.set()
        if self.may_dispatch():
            await self.relay.publish_unsent()
        async with self.schedule.transaction() as tx:
            self.refresh_gauges(tx, now)

    def refresh_gauges(self, tx: Transaction, now: datetime) -> None:
        """Queued, due and outstanding leads per trunk."""
        queued: dict[str, int] = dict.fromkeys(self.bounds, 0)
        due: dict[str, int] = dict.fromkeys(self.bounds, 0)
        for e in tx.open_entries():
            if e.state != "queued":
                continue
            for trunk in carriers(self.trunks, e.e164):
                queued[trunk.name] += 1
                if e.due_at <= now:
                    due[trunk.name] += 1
        for name in self.bounds:
            metrics.QUEUED.labels(name).set(queued[name])
            metrics.DUE.labels(name).set(due[name])
            metrics.OUTSTANDING.labels(name).set(len(tx.outstanding(name)))
        tx.refresh_gauges()

    async def run_sweeps(self) -> None:
        """Sweeps until cancelled."""
        while True:
            await asyncio.sleep(self.options.sweep_interval.total_seconds())
            await self.sweep()
