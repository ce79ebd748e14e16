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


def test_a_verdict_counts_for_its_utc_day() -> None:
    late_in_sydney = datetime(2025, 3, 3, 23, 30, tzinfo=SYDNEY)  # 12:30 UTC the same day
    assert domain.processed_day(late_in_sydney) == date(2025, 3, 3)
    early_in_sydney = datetime(2025, 3, 4, 9, 30, tzinfo=SYDNEY)  # 22:30 UTC the day before
    assert domain.processed_day(early_in_sydney) == date(2025, 3, 3)


@pytest.mark.parametrize(
    ("tz", "due_local"),
    [
        # West of UTC the UTC day is over by the evening of the same date.
        (NEW_YORK, datetime(2025, 3, 3, 19, tzinfo=NEW_YORK)),
        # East of UTC the summary waits for the evening after.
        (SYDNEY, datetime(2025, 3, 4, 19, tzinfo=SYDNEY)),
        (UTC_ZONE, datetime(2025, 3, 4, 19, tzinfo=UTC_ZONE)),
    ],
)
def test_the_summary_is_due_at_the_local_hour_once_the_utc_day_is_over(
    tz: ZoneInfo, due_local: datetime
) -> None:
    day = date(2025, 3, 3)
    due = domain.daily_due_at(day, tz, 19)
    assert due == due_local
    assert due >= datetime(2025, 3, 4, tzinfo=UTC)
    clock = ManualClock(due - timedelta(minutes=1))
    assert not domain.is_daily_due(day, tz, 19, clock.now())
    clock.advance(timedelta(minutes=1))
    assert domain.is_daily_due(day, tz, 19, clock.now())


def test_due_time_follows_daylight_saving() -> None:
    # New York moves to summer time on 2025-03-09: 19:00 local is 23:00 UTC from then on.
    assert domain.daily_due_at(date(2025, 3, 8), NEW_YORK, 19) == datetime(
        2025, 3, 9, 0, tzinfo=UTC
    )
    assert domain.daily_due_at(date(2025, 3, 10), NEW_YORK, 19) == datetime(
        2025, 3, 11, 23, tzinfo=UTC
    )


def test_an_early_hour_waits_for_the_next_local_morning() -> None:
    # 00:00 UTC on the 4th is 19:00 on the 3rd in New York: a 06:00 summary goes on the 4th.
    assert domain.daily_due_at(date(2025, 3, 3), NEW_YORK, 6) == datetime(
        2025, 3, 4, 6, tzinfo=NEW_YORK
    )


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


def test_download_links() -> None:
    assert (
        domain.download_url("https://app.example/", "bat_1")
        == "https://app.example/api/v1/batches/bat_1/download"
    )
    assert (
        domain.download_url("https://app.example", "bat_1", date(2025, 3, 3))
        == "https://app.example/api/v1/batches/bat_1/download?processed_on=2025-03-03"
    )
    assert domain.message_id("daily:acc_1:2025-03-03", "x.io") == "<daily.acc_1.2025-03-03@x.io>"
