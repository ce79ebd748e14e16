"""Where a lead is placed in time: its zones and calling window, its first due time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lc_scheduler.domain.entries import Entry
from lc_scheduler.domain.retry import due_in_window
from lc_scheduler.domain.windows import CallingPolicy, place_number


@dataclass(frozen=True)
class Placing:
    """How a new lead's time zones and due times are found."""

    policy: CallingPolicy
    default_zones: dict[str, str]
    ignored_zones: frozenset[str]
    zone_prefixes: dict[str, str]
    windows_enforced: bool
    # Gaps (seconds) before attempts 2, 3, ...: used only when a non-final verdict
    # names no next attempt time.
    retry_schedule: Sequence[int]

    def new_entry(
        self,
        *,
        lead_id: str,
        account_id: str,
        batch_id: str,
        e164: str,
        now: datetime,
        country: str | None = None,
    ) -> Entry:
        """A queued first attempt, due `now` or at its calling window's next opening."""
        placement = place_number(
            e164, self.default_zones, self.ignored_zones, self.zone_prefixes, country=country
        )
        return Entry(
            lead_id=lead_id,
            account_id=account_id,
            batch_id=batch_id,
            e164=e164,
            state="queued",
            attempt=1,
            due_at=self.window_due(placement.country, placement.zones, now),
            zones=placement.zones,
            country=placement.country,
        )

    def window_due(self, country: str | None, zones: Sequence[str], due: datetime) -> datetime:
        """`due`, or the next opening of the lead's calling window after it."""
        if not self.windows_enforced:
            return due
        return due_in_window(self.policy, country, zones, due)
