"""Calling windows: when a lead may be dialled, in its own time zone.

A window is, per weekday, an interval of local wall-clock time; public holidays
(from the `holidays` package, with the state or province where the time zone
tells it) have no window. A number whose time zone is ambiguous (an Australian
mobile may be anywhere from Perth to Sydney) may only be dialled when it is
inside the window in *every* candidate zone, and then only national holidays
count. Time zones come from zoneinfo, so daylight-saving changes are exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
from phonenumbers import timezone as pn_timezone

# Monday=0 .. Sunday=6 -> (opens, closes) local time; a missing day has no window.
DayWindows = Mapping[int, tuple[time, time]]

DEFAULT_DAYS: dict[int, tuple[time, time]] = {
    **{day: (time(9), time(20)) for day in range(5)},
    5: (time(9), time(17)),
}

# Time zone -> subdivision of the `holidays` package, where a zone names one.
DEFAULT_SUBDIVISIONS: dict[str, str] = {
    "Australia/Perth": "WA",
    "Australia/Eucla": "WA",
    "Australia/Adelaide": "SA",
    "Australia/Broken_Hill": "NSW",
    "Australia/Darwin": "NT",
    "Australia/Brisbane": "QLD",
    "Australia/Lindeman": "QLD",
    "Australia/Sydney": "NSW",
    "Australia/Lord_Howe": "NSW",
    "Australia/Melbourne": "VIC",
    "Australia/Hobart": "TAS",
}

# External territories a mainland mobile range also lists; they would shrink
# every AU mobile's window to almost nothing.
DEFAULT_IGNORED_ZONES: frozenset[str] = frozenset({"Indian/Christmas", "Indian/Cocos"})

# phonenumbers places every +61 8 number in both Adelaide and Perth; the number
# plan does tell them apart (08 9 and 08 6: WA; 08 89 and 08 79: NT; the rest SA).
DEFAULT_ZONE_PREFIXES: dict[str, str] = {
    "+6189": "Australia/Perth",
    "+6186": "Australia/Perth",
    "+61889": "Australia/Darwin",
    "+61879": "Australia/Darwin",
    "+6188": "Australia/Adelaide",
    "+6187": "Australia/Adelaide",
}

UNKNOWN_ZONE = "Etc/Unknown"
_CACHE_SIZE = 50_000
# Far enough to cover a long holiday season; no real window is further away.
_SEARCH_DAYS = 30


@dataclass(frozen=True)
class CountryWindows:
    """The calling window of one country."""

    days: DayWindows = field(default_factory=lambda: dict(DEFAULT_DAYS))
    holidays: bool = True
    default_zone: str | None = None


@dataclass(frozen=True)
class Placement:
    """Where a number rings: its country and candidate time zones."""

    country: str | None
    zones: tuple[str, ...]


def place_number(
    e164: str,
    default_zones: Mapping[str, str] | None = None,
    ignored_zones: frozenset[str] = DEFAULT_IGNORED_ZONES,
    zone_prefixes: Mapping[str, str] | None = None,
    country: str | None = None,
) -> Placement:
    """The country and time zones of an E.164 number.

    The longest matching entry of `zone_prefixes` wins; otherwise phonenumbers'
    time zone data, without `ignored_zones`; otherwise the country's default zone.
    `country`, when the caller knows it already (ingest sends the number's region
    with each lead), saves looking it up, a third of the cost.
    """
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return Placement(None, ("UTC",))
    country = country or phonenumbers.region_code_for_number(number)
    prefixes = DEFAULT_ZONE_PREFIXES if zone_prefixes is None else zone_prefixes
    matches = [p for p in prefixes if e164.startswith(p)]
    if matches:
        return Placement(country, (prefixes[max(matches, key=len)],))
    zones = [
        z
        for z in pn_timezone.time_zones_for_number(number)
        if z != UNKNOWN_ZONE and z not in ignored_zones
    ]
    if not zones:
        fallback = (default_zones or {}).get(country or "", "UTC")
        zones = [fallback]
    return Placement(country, tuple(sorted(set(zones))))


@lru_cache(maxsize=512)
def _holidays(country: str, subdiv: str | None, year: int) -> holidays.HolidayBase:
    try:
        return holidays.country_holidays(country, subdiv=subdiv, years=year)
    except NotImplementedError:  # a country the package does not know: no holidays
        return holidays.HolidayBase(years=year)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class CallingPolicy:
    """Calling windows of every country: defaults and per-country overrides."""

    countries: Mapping[str, CountryWindows] = field(default_factory=dict)
    default: CountryWindows = field(default_factory=CountryWindows)
    subdivisions: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SUBDIVISIONS))
    # Answers by (country, zones, instant): a dispatch round asks the same question
    # for every lead of a region at one instant. Pure, so caching is safe.
    _answers: dict[tuple[str | None, tuple[str, ...], datetime], datetime | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    def _for(self, country: str | None) -> CountryWindows:
        return self.countries.get(country or "", self.default)

    def _is_holiday(self, country: str | None, zone: str, day: date, ambiguous: bool) -> bool:
        if not country or not self._for(country).holidays:
            return False
        subdiv = None if ambiguous else self.subdivisions.get(zone)
        return day in _holidays(country, subdiv, day.year)

    def _interval(
        self, country: str | None, zone: str, day: date, ambiguous: bool
    ) -> tuple[datetime, datetime] | None:
        """The window of one local day, as aware UTC instants, or None."""
        hours = self._for(country).days.get(day.weekday())
        if hours is None or self._is_holiday(country, zone, day, ambiguous):
            return None
        tz = _zone(zone)
        opens = datetime.combine(day, hours[0], tzinfo=tz).astimezone(UTC)
        closes = datetime.combine(day, hours[1], tzinfo=tz).astimezone(UTC)
        return (opens, closes) if opens < closes else None

    def _next_in_zone(
        self, country: str | None, zone: str, at: datetime, ambiguous: bool
    ) -> tuple[datetime, datetime] | None:
        """The first window in one zone that ends after `at`: (start clipped to at, end)."""
        local_day = at.astimezone(_zone(zone)).date()
        for offset in range(-1, _SEARCH_DAYS):
            interval = self._interval(country, zone, local_day + timedelta(days=offset), ambiguous)
            if interval is not None and interval[1] > at:
                return max(interval[0], at), interval[1]
        return None

    def in_window(self, country: str | None, zones: Sequence[str], at: datetime) -> bool:
        """True if the number may be dialled at `at`."""
        return self.next_opening(country, zones, at) == at

    def next_opening(
        self, country: str | None, zones: Sequence[str], at: datetime
    ) -> datetime | None:
        """The earliest instant >= `at` inside the window of every zone (None: none in reach).

        Computed, not polled: each zone's next window is found from its calendar,
        and the latest of their starts is tried until all agree.
        """
        at = at.astimezone(UTC)
        key = (country, tuple(zones), at)
        if key in self._answers:
            return self._answers[key]
        if len(self._answers) > _CACHE_SIZE:
            self._answers.clear()
        answer = self._next_opening(country, tuple(zones) or ("UTC",), at)
        self._answers[key] = answer
        return answer

    def _next_opening(
        self, country: str | None, zones: tuple[str, ...], at: datetime
    ) -> datetime | None:
        ambiguous = len(zones) > 1
        horizon = at + timedelta(days=_SEARCH_DAYS)
        candidate = at
        while candidate < horizon:
            windows = [self._next_in_zone(country, z, candidate, ambiguous) for z in zones]
            if any(w is None for w in windows):
                return None
            start = max(w[0] for w in windows if w is not None)
            end = min(w[1] for w in windows if w is not None)
            if start < end and start == candidate:
                return candidate
            candidate = start if start > candidate else end
        return None
