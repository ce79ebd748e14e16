"""Credit before every dial (docs/invariants.md I3), and releases when a batch stops (I6).

A dispatch round asks billing for a reservation of each lead it picked, one
request per account, outside the schedule's lock; only reserved leads are
dispatched. A refusal blocks the account (`domain.credit`) until billing
announces `restored` on `billing.events` (`handlers.credit_events`), or a
periodic re-check is granted. A
lead billing calls settled is final there: it is closed without a call. If
billing does not answer, the account's leads wait for the next round: nothing
is ever dialled without a reservation.

A failed or deleted batch is marked `release_pending` in the same write that
closes it; the releaser asks billing to release the batch's reservations until
billing answers, then clears the mark.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

import structlog

from lc_common.clock import Clock
from lc_scheduler import metrics
from lc_scheduler.adapters.billing import Reservation
from lc_scheduler.domain.batches import reservations_released
from lc_scheduler.domain.credit import CreditBlocks
from lc_scheduler.domain.entries import Entry
from lc_scheduler.ports import Billing
from lc_scheduler.schedule import Schedule

log = structlog.get_logger(__name__)


class Credit:
    """Reserves credit for picked leads, keeps blocked accounts, releases closed batches."""

    def __init__(
        self,
        schedule: Schedule,
        billing: Billing,
        clock: Clock,
        *,
        recheck: timedelta,
        release_interval: timedelta,
    ) -> None:
        self.schedule = schedule
        self.billing = billing
        self.clock = clock
        self.blocks = CreditBlocks(recheck)
        self.release_interval = release_interval
        self.release_wake = asyncio.Event()

    async def reserve(self, picked: Sequence[Entry]) -> dict[str, Reservation | None]:
        """Per account of the picked leads, billing's answer (None: billing did not answer).

        One request per account, all at once; raises nothing.
        """
        by_account: dict[str, list[Entry]] = defaultdict(list)
        for entry in picked:
            by_account[entry.account_id].append(entry)
        answers = await asyncio.gather(
            *(self._reserve(account, entries) for account, entries in by_account.items())
        )
        metrics.BLOCKED_ACCOUNTS.set(len(self.blocks))
        return dict(zip(by_account, answers, strict=True))

    async def _reserve(self, account_id: str, entries: list[Entry]) -> Reservation | None:
        leads = [(e.lead_id, e.batch_id) for e in entries]
        try:
            answer = await self.billing.reserve(account_id, leads)
        except Exception as exc:
            metrics.RESERVATIONS.labels("unanswered").inc(len(leads))
            log.warning(
                "reservation_unanswered", account_id=account_id, leads=len(leads), error=repr(exc)
            )
            if self.blocks.is_blocked(account_id):
                self.blocks.block(account_id, self.clock.now())
            return None
        for outcome in ("reserved", "refused", "settled"):
            count = len(getattr(answer, outcome))
            if count:
                metrics.RESERVATIONS.labels(outcome).inc(count)
        if answer.refused:
            self.blocks.block(account_id, self.clock.now())
            log.info(
                "account_blocked",
                account_id=account_id,
                refused=len(answer.refused),
                reserved=len(answer.reserved),
                available=answer.available,
            )
        elif answer.reserved and self.blocks.unblock(account_id):
            log.info("account_unblocked", account_id=account_id, by="recheck")
        return answer

    async def release_closed(self) -> list[str]:
        """Ask billing to release the reservations of every closed batch still pending; the
        batch ids released."""
        async with self.schedule.transaction() as tx:
            pending = [r for r in tx.batches() if r.release_pending]
        released = []
        for record in pending:
            try:
                await self.billing.release_batch(record.batch_id)
            except Exception as exc:  # asked again at the next pass
                metrics.RELEASES.labels("unanswered").inc()
                log.warning("release_unanswered", batch_id=record.batch_id, error=repr(exc))
                continue
            async with self.schedule.transaction() as tx:
                # A reservation granted meanwhile re-marks the batch (a new record):
                # then it is released once more at the next pass.
                if tx.batch(record.batch_id) is record:
                    await tx.save_batches([reservations_released(record)])
            metrics.RELEASES.labels("released").inc()
            log.info("reservations_released", batch_id=record.batch_id)
            released.append(record.batch_id)
        return released

    async def run_releases(self) -> None:
        """Release passes until cancelled: when a batch closes, and every interval."""
        while True:
            self.release_wake.clear()
            await self.release_closed()
            try:
                async with asyncio.timeout(self.release_interval.total_seconds()):
                    await self.release_wake.wait()
            except TimeoutError:
                pass
