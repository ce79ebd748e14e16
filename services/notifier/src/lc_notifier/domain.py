"""Notifier rules, free of I/O: notification keys, when a daily summary is due, claims, links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from urllib.parse import quote, urlencode
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
        """The deterministic id in the notification log: `final:<batch>`,
        `daily:<acc>:<local date>` (the account's own date: one summary per local day),
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


def zone(name: str | None) -> ZoneInfo:
    """The account's time zone; UTC when missing or unknown."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """The account's local date a final verdict counts for (its `processed_on` in `tz`)."""
    return moment.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) of the local date `day` in `tz`.

    Where midnight does not exist (a zone that springs forward at 00:00) the day
    starts at the transition: `zoneinfo` reads the missing 00:00 with the offset
    before it, which is that very instant.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The local day as a half-open UTC interval [start, end): 24 hours, or 23 and 25 on
    the days the clocks change."""
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)


def daily_due_at(day: date, tz: ZoneInfo, hour: int) -> datetime:
    """When the summary of the local date `day` goes out (UTC): `hour`:00 local on the
    next date, which is never before the day ends.

    Waiting for the local day to end keeps the summary complete: its link downloads
    every lead processed on that day. An `hour`:00 that the clocks skip (spring
    forward) is read with the offset before the change: the first moment after it.
    """
    _, end = day_bounds(day, tz)
    due = datetime.combine(day + timedelta(days=1), time(hour), tzinfo=tz).astimezone(UTC)
    return max(due, end)


def is_daily_due(day: date, tz: ZoneInfo, hour: int, now: datetime) -> bool:
    return now >= daily_due_at(day, tz, hour)


def last_possible_ended_day(now: datetime) -> date:
    """No local day after this one has ended anywhere: the UTC date of `now` (the
    easternmost zones, UTC+14, are at most one date ahead of UTC, and their previous
    date is UTC's)."""
    return now.astimezone(UTC).date()


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
    """The control panel's download of a batch, or of the leads processed on one local
    date of the account (C3): a person who is logged out goes through the login page
    and lands back here, so the download starts. Never the API route, which answers
    a browser without a key with a JSON 401."""
    url = f"{public_url.rstrip('/')}/batches/{quote(batch_id, safe='')}/download"
    return f"{url}?{urlencode({'processed_on': day.isoformat()})}" if day else url


def billing_url(public_url: str) -> str:
    """The control panel's billing page, where a client buys credit."""
    return f"{public_url.rstrip('/')}/billing"


def message_id(key: str, sender_domain: str) -> str:
    """A Message-ID derived from the key, so a mail sent twice is recognisably one."""
    return f"<{key.replace(':', '.')}@{sender_domain}>"
