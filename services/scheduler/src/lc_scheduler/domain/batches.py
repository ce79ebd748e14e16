"""A batch as the scheduler sees it: whose it is and whether it may be dialled."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

# Event kind -> (flag, value) it sets.
FLAGS: dict[str, tuple[str, bool]] = {
    "paused": ("paused", True),
    "resumed": ("paused", False),
    "credit_paused": ("credit_paused", True),
    "credit_resumed": ("credit_paused", False),
}


@dataclass(frozen=True)
class BatchRecord:
    """One batch known to the scheduler; active while it has leads not yet final."""

    batch_id: str
    account_id: str
    created_at: datetime
    paused: bool = False
    credit_paused: bool = False
    deleted: bool = False
    active: bool = True
    # Per flag, the time of the batch event that set it last: older events are stale.
    paused_at: datetime | None = None
    credit_paused_at: datetime | None = None

    @property
    def dispatchable(self) -> bool:
        """True if its leads may be dialled now."""
        return not (self.paused or self.credit_paused or self.deleted)


def after_batch_event(record: BatchRecord, kind: str, at: datetime) -> BatchRecord | None:
    """The batch after a `batch.events` event, or None if it changes nothing.

    Pause and credit pause are two independent flags; each remembers the time of
    the event that set it, so a redelivered older event cannot undo a newer one.
    """
    if record.deleted:
        return None
    if kind == "deleted":
        return dataclasses.replace(record, deleted=True, active=False)
    if kind not in FLAGS:
        return None
    flag, value = FLAGS[kind]
    if flag == "paused":
        if record.paused_at is not None and at < record.paused_at:
            return None
        return dataclasses.replace(record, paused=value, paused_at=at)
    if record.credit_paused_at is not None and at < record.credit_paused_at:
        return None
    return dataclasses.replace(record, credit_paused=value, credit_paused_at=at)
