"""Retry timing: when the next attempt of a lead may be dialled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from lc_scheduler.domain.windows import CallingPolicy


def fallback_due(attempt: int, last_attempt_at: datetime, schedule: Sequence[int]) -> datetime:
    """When attempt `attempt` (2, 3, ...) is due if the classifier named no time.

    `schedule` holds the gaps (seconds) before attempts 2, 3, ... counted from the
    attempt before: `lc_common.retry_policy.RetryPolicy.gaps`, the system's one
    schedule. The classifier normally sends `not_before`; this is the fallback.
    """
    if not schedule:
        return last_attempt_at
    index = min(max(attempt - 2, 0), len(schedule) - 1)
    return last_attempt_at + timedelta(seconds=schedule[index])


def due_in_window(
    policy: CallingPolicy,
    country: str | None,
    zones: Sequence[str],
    due_at: datetime,
    unreachable_delay: timedelta = timedelta(days=1),
) -> datetime:
    """The due time moved to the next opening of the lead's calling window.

    A number whose window never opens within the search horizon (a country
    configured with no calling days) is looked at again a day later rather than
    dropped.
    """
    opening = policy.next_opening(country, zones, due_at)
    return opening if opening is not None else due_at + unreachable_delay
