"""The accounts' time zones: asked of the gateway once per TTL, unknown zones read as UTC."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from lc_notifier.adapters.peers import PeerNotFound
from lc_notifier.emails import Account
from lc_notifier.zones import AccountZones


class Gateway:
    def __init__(self, zones: dict[str, str]) -> None:
        self.zones = zones
        self.asked: list[str] = []

    async def account(self, account_id: str) -> Account:
        self.asked.append(account_id)
        if account_id not in self.zones:
            raise PeerNotFound(account_id)
        return Account(account_id, "", f"{account_id}@x.test", self.zones[account_id])


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_zone_is_asked_once_per_ttl() -> None:
    gateway, ticks = Gateway({"acc_1": "Australia/Sydney"}), Ticks()
    zones = AccountZones(gateway.account, ttl_seconds=300, monotonic=ticks)
    assert await zones.zone("acc_1") == ZoneInfo("Australia/Sydney")
    ticks.now = 299
    gateway.zones["acc_1"] = "America/New_York"
    assert await zones.zone("acc_1") == ZoneInfo("Australia/Sydney")
    ticks.now = 300
    assert await zones.zone("acc_1") == ZoneInfo("America/New_York")
    assert gateway.asked == ["acc_1", "acc_1"]


async def test_an_unknown_zone_is_utc_and_an_unknown_account_raises() -> None:
    gateway = Gateway({"acc_1": "Mars/Olympus"})
    zones = AccountZones(gateway.account, ttl_seconds=300, monotonic=Ticks())
    assert await zones.zone("acc_1") == ZoneInfo("UTC")
    with pytest.raises(PeerNotFound):
        await zones.zone("acc_2")
    with pytest.raises(PeerNotFound):  # nothing kept for it
        await zones.zone("acc_2")


def test_an_account_read_for_an_email_refreshes_its_zone() -> None:
    zones = AccountZones(Gateway({}).account, ttl_seconds=300, monotonic=Ticks())
    account = Account("acc_1", "", "a@x.test", "America/New_York")
    assert zones.remember(account) == ZoneInfo("America/New_York")
