"""The notifier's pure rules: keys, when a daily summary is due, claims, links."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lc_common.clock import ManualClock
from lc_notifier import domain
from lc_notifier.domain import LogEntry, Notification

SYDNEY, NEW_YORK, UTC_ZONE = (
    ZoneInfo("Australia/Sydney"),
    ZoneInfo("America/New_York"),
    ZoneInfo("UTC"),
)


def test_keys_are_deterministic() -> None:
    assert Notification.final("acc_1", "bat_9").key == "final:bat_9"
    assert Notification.daily("acc_1", date(2025, 3, 3)).key == "daily:acc_1:2025-03-03"


# Controllable clock: 23:30 and 00:30 Sydney summer time (AEDT, UTC+11), one UTC date.
SYDNEY_LATE = datetime(2025, 3, 3, 12, 30, tzinfo=UTC)  # 23:30 on the 3rd in Sydney
SYDNEY_EARLY = datetime(2025, 3, 3, 13, 30, tzinfo=UTC)  # 00:30 on the 4th in Sydney


def test_a_verdict_counts_for_the_accounts_local_date() -> None:
    clock = ManualClock(SYDNEY_LATE)
    assert domain.local_day(clock.now(), SYDNEY) == date(2025, 3, 3)
    clock.advance(timedelta(hours=1))
    assert domain.local_day(clock.now(), SYDNEY) == date(2025, 3, 4)
    # The same two instants are one date in UTC and in New York.
    assert domain.local_day(SYDNEY_LATE, UTC_ZONE) == domain.local_day(SYDNEY_EARLY, UTC_ZONE)
    assert domain.local_day(SYDNEY_EARLY, NEW_YORK) == date(2025, 3, 3)


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        (UTC_ZONE, date(2025, 3, 30), 24),  # Europe changes that day; UTC never does
        (SYDNEY, date(2025, 3, 3), 24),
        (SYDNEY, date(2025, 4, 6), 25),  # 03:00 AEDT back to 02:00 AEST
        (SYDNEY, date(2025, 10, 5), 23),  # 02:00 AEST forward to 03:00 AEDT
        (NEW_YORK, date(2025, 3, 9), 23),  # 02:00 EST forward to 03:00 EDT
        (NEW_YORK, date(2025, 11, 2), 25),  # 02:00 EDT back to 01:00 EST
        (ZoneInfo("America/Santiago"), date(2024, 9, 8), 23),  # midnight itself is skipped
    ],
)
def test_a_local_day_lasts_24_hours_or_23_and_25_when_the_clocks_change(
    tz: ZoneInfo, day: date, hours: int
) -> None:
    start, end = domain.day_bounds(day, tz)
    assert end - start == timedelta(hours=hours)
    # Every instant of the interval, and only those, belongs to that local date.
    assert domain.local_day(start, tz) == day
    assert domain.local_day(end - timedelta(microseconds=1), tz) == day
    assert domain.local_day(start - timedelta(microseconds=1), tz) == day - timedelta(days=1)
    assert domain.local_day(end, tz) == day + timedelta(days=1)


@pytest.mark.parametrize(
    ("tz", "due_local"),
    [
        (NEW_YORK, datetime(2025, 3, 4, 7, tzinfo=NEW_YORK)),
        (SYDNEY, datetime(2025, 3, 4, 7, tzinfo=SYDNEY)),
        (UTC_ZONE, datetime(2025, 3, 4, 7, tzinfo=UTC_ZONE)),
    ],
)
def test_the_summary_is_due_at_the_local_hour_of_the_next_local_day(
    tz: ZoneInfo, due_local: datetime
) -> None:
    day = date(2025, 3, 3)
    due = domain.daily_due_at(day, tz, 7)
    assert due == due_local
    assert due >= domain.day_bounds(day, tz)[1]
    clock = ManualClock(due - timedelta(minutes=1))
    assert not domain.is_daily_due(day, tz, 7, clock.now())
    clock.advance(timedelta(minutes=1))
    assert domain.is_daily_due(day, tz, 7, clock.now())


def test_the_two_sydney_days_of_one_utc_date_are_due_a_day_apart() -> None:
    first, second = (domain.local_day(t, SYDNEY) for t in (SYDNEY_LATE, SYDNEY_EARLY))
    assert domain.daily_due_at(first, SYDNEY, 7) == datetime(2025, 3, 3, 20, tzinfo=UTC)
    assert domain.daily_due_at(second, SYDNEY, 7) == datetime(2025, 3, 4, 20, tzinfo=UTC)


def test_hour_zero_sends_as_soon_as_the_day_is_over() -> None:
    for tz, day in ((SYDNEY, date(2025, 4, 6)), (NEW_YORK, date(2025, 3, 9))):
        assert domain.daily_due_at(day, tz, 0) == domain.day_bounds(day, tz)[1]


def test_due_time_follows_daylight_saving() -> None:
    # New York springs forward on 2025-03-09: 07:00 local is 12:00 UTC before, 11:00 after.
    assert domain.daily_due_at(date(2025, 3, 8), NEW_YORK, 7) == datetime(
        2025, 3, 9, 11, tzinfo=UTC
    )
    assert domain.daily_due_at(date(2025, 3, 7), NEW_YORK, 7) == datetime(
        2025, 3, 8, 12, tzinfo=UTC
    )
    # Sydney falls back on 2025-04-06 (AEDT, UTC+11, to AEST, UTC+10).
    assert domain.daily_due_at(date(2025, 4, 5), SYDNEY, 7) == datetime(2025, 4, 5, 21, tzinfo=UTC)
    assert domain.daily_due_at(date(2025, 4, 6), SYDNEY, 7) == datetime(2025, 4, 6, 21, tzinfo=UTC)


def test_an_hour_the_clocks_skip_means_the_first_moment_after_it() -> None:
    # 02:00 on 2025-03-09 does not exist in New York: the summary goes at 03:00 EDT.
    due = domain.daily_due_at(date(2025, 3, 8), NEW_YORK, 2)
    assert due == datetime(2025, 3, 9, 7, tzinfo=UTC)
    assert due.astimezone(NEW_YORK).hour == 3


def test_no_local_day_after_the_utc_date_has_ended_anywhere() -> None:
    now = datetime(2025, 3, 3, 23, 59, tzinfo=UTC)
    last = domain.last_possible_ended_day(now)
    assert last == date(2025, 3, 3)
    kiritimati = ZoneInfo("Pacific/Kiritimati")  # UTC+14
    assert domain.day_bounds(last, kiritimati)[1] <= now
    assert domain.day_bounds(last + timedelta(days=1), kiritimati)[1] > now


def test_unknown_time_zones_fall_back_to_utc() -> None:
    assert domain.zone("Mars/Olympus") == UTC_ZONE
    assert domain.zone(None) == UTC_ZONE
    assert domain.zone("Australia/Sydney") == SYDNEY


NOW = datetime(2025, 3, 3, 12, tzinfo=UTC)
STALE = timedelta(minutes=15)


@pytest.mark.parametrize(
    ("entry", "action"),
    [
        (None, "claim"),
        (LogEntry("sent", 1, NOW - timedelta(days=1)), "done"),
        (LogEntry("skipped", 1, NOW - timedelta(days=1)), "done"),
        (LogEntry("claimed", 1, NOW - timedelta(minutes=1)), "busy"),
        (LogEntry("claimed", 1, NOW - timedelta(minutes=15)), "retake"),
        (LogEntry("failed", 1, NOW, not_before=NOW + timedelta(minutes=1)), "later"),
        (LogEntry("failed", 2, NOW, not_before=NOW), "retake"),
        (LogEntry("failed", 5, NOW, not_before=NOW), "given_up"),
    ],
)
def test_claim_actions(entry: LogEntry | None, action: str) -> None:
    assert domain.claim_action(entry, NOW, STALE, max_attempts=5) == action


def test_retry_backoff_grows_and_is_capped() -> None:
    delays = [domain.retry_delay(n) for n in (1, 2, 3, 10)]
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 60)]


def test_download_links_are_panel_routes() -> None:
    assert (
        domain.download_url("https://app.example/", "bat_1")
        == "https://app.example/batches/bat_1/download"
    )
    assert (
        domain.download_url("https://app.example", "bat_1", date(2025, 3, 3))
        == "https://app.example/batches/bat_1/download?processed_on=2025-03-03"
    )
    assert domain.billing_url("https://app.example/") == "https://app.example/billing"
    assert domain.message_id("daily:acc_1:2025-03-03", "x.io") == "<daily.acc_1.2025-03-03@x.io>"
