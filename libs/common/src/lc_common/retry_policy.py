"""The one retry policy of the system: when an indeterminate lead is tested again.

DESIGN.md section 2: +1 h, +3 h, next day, day 2, day 3 — at most 5 attempts
within 72 h. The classifier decides each retry's time from it; the scheduler
falls back on it when a verdict names no time. Both read it from the same
settings (`LC_RETRY_SCHEDULE`, `LC_RETRY_MAX_ATTEMPTS`, `LC_RETRY_HORIZON`)
through `RetrySettings`, so the two can never disagree.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_settings import NoDecode

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

DEFAULT_SCHEDULE = "1h,3h,1d,2d,3d"
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_HORIZON = "72h"


def parse_duration(text: str) -> timedelta:
    """`90s`, `5m`, `1.5h`, `2d` → a timedelta; anything else raises ValueError."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration (like 90s, 5m, 1h, 2d): {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_durations(text: str) -> list[timedelta]:
    """A comma-separated list of durations, e.g. `1h,3h,1d,2d,3d` (empty parts ignored)."""
    return [parse_duration(part) for part in text.split(",") if part.strip()]


def _to_duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(value, str) else value


def _to_durations(value: Any) -> Any:
    return parse_durations(value) if isinstance(value, str) else value


Duration = Annotated[timedelta, BeforeValidator(_to_duration)]
"""A timedelta that also accepts `90s`, `5m`, `1h`, `2d`."""

Durations = Annotated[list[Duration], NoDecode, BeforeValidator(_to_durations)]
"""A list of durations that also accepts `1h,3h,1d` (and, in settings, is not read as JSON)."""


class RetryPolicy(BaseModel):
    """When attempt 2, 3, ... of a lead is due, counted from its first attempt.

    `schedule[i]` is the offset of attempt `i + 2` from the first attempt; no
    attempt beyond `max_attempts`, none later than `horizon` after the first.
    """

    model_config = ConfigDict(frozen=True)

    schedule: Durations = Field(
        default_factory=lambda: parse_durations(DEFAULT_SCHEDULE), min_length=1
    )
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1)
    horizon: Duration = Field(default_factory=lambda: parse_duration(DEFAULT_HORIZON))

    def offset(self, attempt: int) -> timedelta | None:
        """How long after the first attempt attempt `attempt` (2, 3, ...) is due; None: never."""
        index = attempt - 2
        if attempt > self.max_attempts or index < 0 or index >= len(self.schedule):
            return None
        offset = self.schedule[index]
        return offset if offset <= self.horizon else None

    def due(
        self,
        first_at: datetime,
        next_attempt: int,
        now: datetime,
        at_least: timedelta | None = None,
    ) -> datetime | None:
        """When attempt `next_attempt` may be dialled, or None when there is none left.

        Never before `now`, nor before `now + at_least` (a minimum delay the far
        end asked for, e.g. a SIP Retry-After), but still within the horizon.
        """
        offset = self.offset(next_attempt)
        if offset is None:
            return None
        due = max(first_at + offset, now)
        if at_least is not None and at_least > timedelta(0):
            due = max(due, now + at_least)
            if due > first_at + self.horizon:
                return None
        return due

    def gaps(self) -> list[timedelta]:
        """The gap before each of attempts 2, 3, ... counted from the attempt before it.

        For a caller that knows only when the previous attempt was made.
        """
        offsets = [timedelta(0), *self.schedule[: max(self.max_attempts - 1, 0)]]
        return [max(b - a, timedelta(0)) for a, b in pairwise(offsets)]


class RetrySettings(BaseModel):
    """Settings mixin: the retry policy from `LC_RETRY_SCHEDULE`, `LC_RETRY_MAX_ATTEMPTS`,
    `LC_RETRY_HORIZON` (with a service's `ServiceSettings`, which gives the `LC_` prefix).

    Durations are written like `90s`, `5m`, `1h`, `2d`; the schedule is comma-separated.
    """

    retry_schedule: Durations = Field(
        default_factory=lambda: parse_durations(DEFAULT_SCHEDULE), min_length=1
    )
    retry_max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1)
    retry_horizon: Duration = Field(default_factory=lambda: parse_duration(DEFAULT_HORIZON))

    def retry_policy(self) -> RetryPolicy:
        """The policy these settings describe."""
        return RetryPolicy(
            schedule=self.retry_schedule,
            max_attempts=self.retry_max_attempts,
            horizon=self.retry_horizon,
        )
