"""Notifier rules, free of I/O: notification keys, when a daily summary is due, claims, links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NotificationKind = Literal["final", "daily", "credit"]
NotificationState = Literal["claimed", "sent", "skipped", "failed"]
ClaimAction = Literal["claim", "retake", "done", "busy", "given_up", "later"]


@dataclass(frozen=True)
class Notification:
    """One email that must go out exactly once: a batch's final email, an account's day,
    or the account's "out of credit" email for one `exhausted` credit event."""

    kind: NotificationKind
    account_id: str
    batch_id: str | None = None
    day: date | None = None
    event_id: str | None = None

    @property
    def key(self) -> str:
        """The deterministic id in the notification log: `final:<batch>`, `daily:<acc>:<day>`,
        `credit:<event id>` (one email per exhaustion; a replayed event finds it sent)."""
        if self.kind == "final":
            return f"final:{self.batch_id}"
        if self.kind == "credit":
            return f"credit:{self.event_id}"
        assert self.day is not None
        return f"daily:{self.account_id}:{self.day.isoformat()}"

    @classmethod
    def final(cls, account_id: str, batch_id: str) -> Notification:
        return cls("final", account_id, batch_id=batch_id)

    @classmethod
    def daily(cls, account_id: str, day: date) -> Notification:
        return cls("daily", account_id, day=day)

    @classmethod
    def out_of_credit(cls, account_id: str, event_id: str) -> Notification:
        return cls("credit", account_id, event_id=event_id)


def processed_day(moment: datetime) -> date:
    """The UTC date a final verdict counts for (ingest's `daily` and downloads use UTC dates)."""
    return moment.astimezone(UTC).date()


def zone(name: str | None) -> ZoneInfo:
    """The account's time zone; UTC when missing or unknown."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def daily_due_at(day: date, tz: ZoneInfo, hour: int) -> datetime:
    """When the summary of UTC day `day` goes out: the first `hour`:00 in the account's
    zone once that UTC day is over.

    Waiting for the UTC day to end keeps the summary complete: its link downloads
    every lead processed on that day. West of UTC (the Americas) this is the evening
    of the same date; east of it (Australia) the evening after.
    """
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
    local_end = end.astimezone(tz)
    due = datetime.combine(local_end.date(), time(hour), tzinfo=tz)
    if due < local_end:
        due = datetime.combine(local_end.date() + timedelta(days=1), time(hour), tzinfo=tz)
    return due.astimezone(UTC)


def is_daily_due(day: date, tz: ZoneInfo, hour: int, now: datetime) -> bool:
    return now >= daily_due_at(day, tz, hour)


@dataclass(frozen=True)
class LogEntry:
    """What the notification log holds about a key."""

    state: NotificationState
    attempts: int
    claimed_at: datetime
    not_before: datetime | None = None


def claim_action(
    entry: LogEntry | None, now: datetime, stale_after: timedelta, max_attempts: int
) -> ClaimAction:
    """May this sender take the notification now?

    - nothing logged: claim it;
    - sent or skipped: done, never again;
    - claimed by a sender that has not finished within `stale_after`: it probably
      crashed, retake it (the one window where a mail can go twice);
    - claimed recently: busy, leave it to that sender;
    - failed: retake once its back-off has passed, give up after `max_attempts`.
    """
    if entry is None:
        return "claim"
    if entry.state in ("sent", "skipped"):
        return "done"
    if entry.attempts >= max_attempts and entry.state == "failed":
        return "given_up"
    if entry.state == "claimed":
        return "retake" if now - entry.claimed_at >= stale_after else "busy"
    if entry.not_before is not None and now < entry.not_before:
        return "later"
    return "retake"


def retry_delay(attempts: int) -> timedelta:
    """Back-off after a failed send: 1, 2, 4, 8 … minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def download_url(public_url: str, batch_id: str, day: date | None = None) -> str:
    """The client's download link of a batch, or of the leads processed on one day."""
    url = f"{public_url.rstrip('/')}/api/v1/batches/{batch_id}/download"
    return f"{url}?processed_on={day.isoformat()}" if day else url


def billing_url(public_url: str) -> str:
    """The control panel's billing page, where a client buys credit."""
    return f"{public_url.rstrip('/')}/billing"


def message_id(key: str, sender_domain: str) -> str:
    """A Message-ID derived from the key, so a mail sent twice is recognisably one."""
    return f"<{key.replace(':', '.')}@{sender_domain}>"
