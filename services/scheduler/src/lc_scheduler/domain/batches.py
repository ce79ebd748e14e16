"""A batch as the scheduler sees it: whose it is, whether it may be dialled, when it expires."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

# Event kind -> (flag, value) it sets.
FLAGS: dict[str, tuple[str, bool]] = {
    "paused": ("paused", True),
    "resumed": ("paused", False),
    "credit_paused": ("credit_paused", True),
    "credit_resumed": ("credit_paused", False),
}
# Retention (DESIGN.md section 1): a batch is deleted a while after it finishes, fails or
# is paused; the clock starts at the latest of these and stops when the batch resumes.
RETENTION_STARTS = frozenset({"finished", "failed", "paused", "credit_paused"})
RETENTION_STOPS = frozenset({"resumed", "credit_resumed"})


@dataclass(frozen=True)
class BatchRecord:
    """One batch known to the scheduler; active while it has leads not yet final.

    A failed or deleted batch is closed: its entries are dropped and its leads'
    credit reservations released (`release_pending` until billing confirmed it).
    """

    batch_id: str
    account_id: str
    created_at: datetime
    paused: bool = False
    credit_paused: bool = False
    deleted: bool = False
    active: bool = True
    failed: bool = False
    release_pending: bool = False
    # Per flag, the time of the batch event that set it last: older events are stale.
    paused_at: datetime | None = None
    credit_paused_at: datetime | None = None
    # When the retention clock started (None: not running), and the time of the
    # batch event that last started or stopped it.
    retention_from: datetime | None = None
    retention_changed_at: datetime | None = None

    @property
    def dispatchable(self) -> bool:
        """True if its leads may be dialled now."""
        return not (self.paused or self.credit_paused or self.deleted or self.failed)

    @property
    def closed(self) -> bool:
        """True if the batch failed or was deleted: none of its leads is dialled again."""
        return self.deleted or self.failed


def after_batch_event(record: BatchRecord, kind: str, at: datetime) -> BatchRecord | None:
    """The batch after a `batch.events` event, or None if it changes nothing.

    Pause and credit pause are two independent flags; each remembers the time of
    the event that set it, so a redelivered older event cannot undo a newer one.
    The retention clock is guarded the same way. `failed` and `deleted` close
    the batch for good and ask for its reservations to be released.
    """
    if record.deleted:
        return None
    if kind == "deleted":
        return dataclasses.replace(record, deleted=True, active=False, release_pending=True)
    new = _retention_after(_flags_after(record, kind, at), kind, at)
    if kind == "failed" and not record.failed:
        new = dataclasses.replace(new, failed=True, active=False, release_pending=True)
    return None if new == record else new


def reservations_released(record: BatchRecord) -> BatchRecord:
    """The closed batch once billing released its leads' reservations."""
    return dataclasses.replace(record, release_pending=False)


def _flags_after(record: BatchRecord, kind: str, at: datetime) -> BatchRecord:
    if kind not in FLAGS:
        return record
    flag, value = FLAGS[kind]
    if flag == "paused":
        if record.paused_at is not None and at < record.paused_at:
            return record
        return dataclasses.replace(record, paused=value, paused_at=at)
    if record.credit_paused_at is not None and at < record.credit_paused_at:
        return record
    return dataclasses.replace(record, credit_paused=value, credit_paused_at=at)


def _retention_after(record: BatchRecord, kind: str, at: datetime) -> BatchRecord:
    if kind not in RETENTION_STARTS and kind not in RETENTION_STOPS:
        return record
    if record.retention_changed_at is not None and at < record.retention_changed_at:
        return record
    started = at if kind in RETENTION_STARTS else None
    return dataclasses.replace(record, retention_from=started, retention_changed_at=at)


def retention_due(record: BatchRecord, now: datetime, keep: timedelta) -> bool:
    """True if the batch's retention ran out: it must be deleted now."""
    return (
        not record.deleted
        and record.retention_from is not None
        and record.retention_from + keep <= now
    )
