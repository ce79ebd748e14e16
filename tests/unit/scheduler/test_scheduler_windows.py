"""Calling windows in the lead's own time zone: weekends, holidays, daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from lc_scheduler.config import SchedulerSettings
from lc_scheduler.domain.retry import due_in_window, fallback_due
from lc_scheduler.domain.windows import CallingPolicy, CountryWindows, place_number

SYD = ZoneInfo("Australia/Sydney")
PER = ZoneInfo("Australia/Perth")
POLICY = CallingPolicy()

SYDNEY_LINE = "+61292345678"
PERTH_LINE = "+61892345678"
AU_MOBILE = "+61412345678"


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


def opening(e164: str, at: datetime) -> datetime | None:
    p = place_number(e164)
    return POLICY.next_opening(p.country, p.zones, at)


def test_numbers_are_placed_in_their_zones() -> None:
    assert place_number(SYDNEY_LINE).zones == ("Australia/Sydney",)
    assert place_number(SYDNEY_LINE).country == "AU"
    assert place_number(PERTH_LINE).zones == ("Australia/Perth",)
    assert place_number("+61881234567").zones == ("Australia/Adelaide",)
    assert "Australia/Perth" in place_number(PERTH_LINE, zone_prefixes={}).zones
    mobile = place_number(AU_MOBILE).zones
    assert "Australia/Perth" in mobile and "Australia/Sydney" in mobile
    assert "Indian/Cocos" not in mobile
    # A number with no zone falls back to the configured default of its country.
    assert place_number("+61491570006", {"AU": "Australia/Sydney"}).zones


def test_inside_the_window_is_now() -> None:
    at = local(SYD, 2025, 3, 12, 10, 30)  # Wednesday
    assert opening(SYDNEY_LINE, at) == at
    assert POLICY.in_window("AU", ("Australia/Sydney",), at)


def test_evening_moves_to_next_morning() -> None:
    at = local(SYD, 2025, 3, 12, 20, 0)  # Wednesday, closing time exactly
    assert opening(SYDNEY_LINE, at) == local(SYD, 2025, 3, 13, 9, 0)
    early = local(SYD, 2025, 3, 13, 6, 15)
    assert opening(SYDNEY_LINE, early) == local(SYD, 2025, 3, 13, 9, 0)


def test_saturday_closes_at_five_and_sunday_is_skipped() -> None:
    sat_late = local(SYD, 2025, 3, 15, 17, 30)
    assert opening(SYDNEY_LINE, sat_late) == local(SYD, 2025, 3, 17, 9, 0)  # Monday
    sat_ok = local(SYD, 2025, 3, 15, 16, 59)
    assert opening(SYDNEY_LINE, sat_ok) == sat_ok


def test_state_holiday_counts_only_in_its_state() -> None:
    # Western Australia Day: Monday 2 June 2025, a holiday in WA only.
    friday_night_sydney = local(SYD, 2025, 5, 30, 21, 0)
    assert opening(SYDNEY_LINE, friday_night_sydney) == local(SYD, 2025, 5, 31, 9, 0)
    sunday_perth = local(PER, 2025, 6, 1, 12, 0)
    perth = place_number("+61892345678")
    perth_only = POLICY.next_opening(perth.country, ("Australia/Perth",), sunday_perth)
    assert perth_only == local(PER, 2025, 6, 3, 9, 0)  # Tuesday: Monday is WA Day
    sunday_sydney = local(SYD, 2025, 6, 1, 12, 0)
    assert opening(SYDNEY_LINE, sunday_sydney) == local(SYD, 2025, 6, 2, 9, 0)


def test_national_holidays_and_easter() -> None:
    # Good Friday 18 April 2025 .. Easter Monday 21 April. NSW also keeps Easter
    # Saturday: Sydney is back on Tuesday; Perth dials on the Saturday.
    thursday_night = local(SYD, 2025, 4, 17, 20, 30)
    assert opening(SYDNEY_LINE, thursday_night) == local(SYD, 2025, 4, 22, 9, 0)
    perth_thursday = local(PER, 2025, 4, 17, 20, 30)
    perth = POLICY.next_opening("AU", ("Australia/Perth",), perth_thursday)
    assert perth == local(PER, 2025, 4, 19, 9, 0)
    perth_saturday_night = local(PER, 2025, 4, 19, 18, 0)
    perth = POLICY.next_opening("AU", ("Australia/Perth",), perth_saturday_night)
    assert perth == local(PER, 2025, 4, 22, 9, 0)
    christmas_eve = local(PER, 2025, 12, 24, 20, 30)
    perth = POLICY.next_opening("AU", ("Australia/Perth",), christmas_eve)
    assert perth == local(PER, 2025, 12, 27, 9, 0)  # 25, 26 holidays; 27 a Saturday


def test_daylight_saving_start_and_end_in_sydney() -> None:
    # DST starts Sunday 5 Oct 2025 (UTC+10 -> +11); Monday 6 Oct is NSW Labour Day.
    saturday = local(SYD, 2025, 10, 4, 18, 0)
    result = opening(SYDNEY_LINE, saturday)
    assert result == datetime(2025, 10, 6, 22, 0, tzinfo=UTC)  # Tue 09:00 AEDT
    assert result is not None and result.astimezone(SYD).hour == 9
    # The Friday before opened at 09:00 AEST = 23:00 UTC.
    assert opening(SYDNEY_LINE, local(SYD, 2025, 10, 3, 7, 0)) == datetime(
        2025, 10, 2, 23, 0, tzinfo=UTC
    )
    # DST ends Sunday 6 April 2025 (+11 -> +10): Monday opens 09:00 AEST = 23:00 UTC.
    assert opening(SYDNEY_LINE, local(SYD, 2025, 4, 5, 18, 0)) == datetime(
        2025, 4, 6, 23, 0, tzinfo=UTC
    )


def test_ambiguous_mobile_needs_every_zone_open() -> None:
    # In March Sydney is UTC+11 and Perth UTC+8: a mobile opens at 09:00 Perth.
    p = place_number(AU_MOBILE)
    at = local(SYD, 2025, 3, 12, 10, 0)  # 07:00 in Perth
    result = POLICY.next_opening(p.country, p.zones, at)
    assert result == local(PER, 2025, 3, 12, 9, 0)
    assert POLICY.in_window(p.country, p.zones, local(SYD, 2025, 3, 12, 19, 59))
    # In July Lord Howe (UTC+10:30) is half an hour ahead of Sydney: it closes first.
    late = local(SYD, 2025, 7, 16, 19, 45)
    result = POLICY.next_opening(p.country, p.zones, late)
    assert result == local(PER, 2025, 7, 17, 9, 0)
    assert result is not None and result.astimezone(PER).time() == time(9, 0)


def test_country_override_from_settings() -> None:
    settings = SchedulerSettings(
        calling_windows={"US": {"days": {"sat": ["10:00", "14:00"]}, "holidays": False}},
    )
    policy = settings.calling_policy()
    ny = ("America/New_York",)
    saturday_9 = datetime(2025, 7, 5, 13, 0, tzinfo=UTC)  # 09:00 EDT
    assert policy.next_opening("US", ny, saturday_9) == datetime(2025, 7, 5, 14, 0, tzinfo=UTC)
    # Weekdays are not in the override: no window until the next Saturday.
    friday_4th = datetime(2025, 7, 4, 15, 0, tzinfo=UTC)
    assert policy.next_opening("US", ny, friday_4th) == saturday_9.replace(hour=14)
    # AU keeps the defaults.
    assert policy.next_opening("AU", ("Australia/Sydney",), local(SYD, 2025, 3, 12, 10, 0))


def test_no_window_at_all_looks_again_a_day_later() -> None:
    policy = CallingPolicy(countries={"XX": CountryWindows(days={})})
    at = datetime(2025, 1, 1, tzinfo=UTC)
    assert policy.next_opening("XX", ("UTC",), at) is None
    assert due_in_window(policy, "XX", ("UTC",), at) == datetime(2025, 1, 2, tzinfo=UTC)


def test_fallback_retry_schedule() -> None:
    t = datetime(2025, 1, 1, tzinfo=UTC)
    schedule = [3600, 10800, 86400]
    assert (fallback_due(2, t, schedule) - t).total_seconds() == 3600
    assert (fallback_due(3, t, schedule) - t).total_seconds() == 10800
    assert (fallback_due(9, t, schedule) - t).total_seconds() == 86400


def test_the_fallback_follows_the_shared_retry_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_RETRY_SCHEDULE", "1h,3h,1d")
    gaps = [int(g.total_seconds()) for g in SchedulerSettings().retry_policy().gaps()]
    t = datetime(2025, 1, 1, tzinfo=UTC)
    # Attempt 3 is due 3 h after the first, so 2 h after attempt 2.
    assert (fallback_due(3, t, gaps) - t).total_seconds() == 2 * 3600
    assert (fallback_due(4, t, gaps) - t).total_seconds() == 21 * 3600
