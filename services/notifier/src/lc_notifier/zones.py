"""The accounts' time zones, read from the gateway and kept for a while.

Every final verdict is filed under its account's local date, so the zone is needed
once per verdict; a zone changes rarely, so one gateway call per account every few
minutes is enough.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from lc_notifier import domain
from lc_notifier.emails import Account


class AccountZones:
    """Account id → its IANA zone (UTC when the gateway names none or an unknown one)."""

    def __init__(
        self,
        lookup: Callable[[str], Awaitable[Account]],
        ttl_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._known: dict[str, tuple[float, ZoneInfo]] = {}

    async def zone(self, account_id: str) -> ZoneInfo:
        """The account's zone; asks the gateway when not known or older than the TTL.

        Raises what the lookup raises (`PeerNotFound`, `PeerError`); nothing is kept then.
        """
        now = self._monotonic()
        known = self._known.get(account_id)
        if known is not None and now - known[0] < self._ttl:
            return known[1]
        tz = domain.zone((await self._lookup(account_id)).time_zone)
        self._known[account_id] = (now, tz)
        return tz

    def remember(self, account: Account) -> ZoneInfo:
        """Keep the zone of an account just read for another reason; return it."""
        tz = domain.zone(account.time_zone)
        self._known[account.id] = (self._monotonic(), tz)
        return tz
