"""`billing.events`: an account's credit is restored, so its batches may be dialled again."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from lc_common.events import CreditEventV1
from lc_scheduler import metrics
from lc_scheduler.domain.credit import CreditBlocks
from lc_scheduler.schedule import Schedule

log = structlog.get_logger(__name__)


@dataclass
class CreditEvents:
    """Unblocks accounts that billing says have credit again."""

    schedule: Schedule
    blocks: CreditBlocks

    async def handle(self, event: CreditEventV1) -> None:
        """`restored`: the account's batches may be dispatched again.

        `exhausted` follows a refusal this scheduler saw itself (or its predecessor,
        whose refusal the next round repeats): nothing to do.
        """
        if event.kind != "restored":
            return
        if self.blocks.unblock(event.account_id):
            metrics.BLOCKED_ACCOUNTS.set(len(self.blocks))
            log.info("account_unblocked", account_id=event.account_id, by="restored")
            self.schedule.wake.set()
