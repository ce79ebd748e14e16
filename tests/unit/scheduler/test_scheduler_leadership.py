"""The lease: claim/renew/expire rules, and two replicas contending through one store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from lc_common.clock import ManualClock
from lc_scheduler.domain.lease import Lease, claim, released
from lc_scheduler.leadership import Leadership, LeadershipLost

NOW = datetime(2025, 3, 12, 3, 0, tzinfo=UTC)
TTL = timedelta(seconds=15)


class MemoryLeases:
    """The lease document, with the same compare-and-set as the Mongo adapter."""

    def __init__(self) -> None:
        self.doc: Lease | None = None
        self.down = False

    async def read(self, name: str) -> Lease | None:
        if self.down:
            raise ConnectionError("store down")
        return self.doc

    async def write(self, lease: Lease, expected_version: int | None) -> bool:
        if self.down:
            raise ConnectionError("store down")
        current = self.doc.version if self.doc else None
        if current != expected_version:
            return False
        self.doc = lease
        return True


def replica(store: MemoryLeases, clock: ManualClock, owner: str) -> Leadership:
    return Leadership(store, clock, owner, ttl=TTL, renew=timedelta(seconds=5))


def test_claim_rules() -> None:
    first = claim(None, "s", "a", NOW, TTL)
    assert first == Lease("s", "a", NOW + TTL, 1, NOW)
    assert claim(first, "s", "b", NOW + TTL - timedelta(seconds=1), TTL) is None
    renewed = claim(first, "s", "a", NOW + timedelta(seconds=5), TTL)
    assert renewed is not None and renewed.version == 2 and renewed.acquired_at == NOW
    taken = claim(first, "s", "b", NOW + TTL, TTL)
    assert taken is not None and taken.owner == "b" and taken.acquired_at == NOW + TTL
    assert released(first, "b", NOW) is None
    gone = released(first, "a", NOW + timedelta(seconds=1))
    assert gone is not None and claim(gone, "s", "b", NOW + timedelta(seconds=1), TTL)


async def test_one_leader_standby_takes_over_after_expiry_or_release() -> None:
    clock = ManualClock(NOW)
    store = MemoryLeases()
    a, b = replica(store, clock, "a"), replica(store, clock, "b")
    assert await a.try_acquire() and a.is_leader
    assert not await b.try_acquire() and not b.is_leader
    assert b.detail()["role"] == "standby" and b.detail()["lease_holder"] == "a"
    clock.advance(timedelta(seconds=10))
    assert await a.try_acquire()  # renewal
    clock.advance(timedelta(seconds=14))
    assert not await b.try_acquire()
    # a stops renewing (hung, partitioned): once its lease runs out, it may not
    # dispatch by its own clock, and b takes over.
    clock.advance(timedelta(seconds=2))
    assert not a.is_leader
    assert await b.try_acquire() and b.is_leader
    assert not await a.try_acquire()
    await b.release()
    assert not b.is_leader and await a.try_acquire()


async def test_two_replicas_racing_for_a_free_lease_one_wins() -> None:
    clock = ManualClock(NOW)
    store = MemoryLeases()
    a, b = replica(store, clock, "a"), replica(store, clock, "b")
    seen = await store.read("scheduler")
    assert seen is None
    assert await store.write(Lease("scheduler", "a", NOW + TTL, 1, NOW), None)
    # b read before a wrote: its write of the same version fails.
    assert not await store.write(Lease("scheduler", "b", NOW + TTL, 1, NOW), None)
    assert not await b.try_acquire()
    assert await a.try_acquire()


async def test_a_leader_that_cannot_renew_in_time_gives_up() -> None:
    clock = ManualClock(NOW)
    store = MemoryLeases()
    a = Leadership(store, clock, "a", ttl=TTL, renew=timedelta(seconds=0.01))
    assert await a.try_acquire()
    store.down = True
    clock.advance(timedelta(seconds=16))
    with pytest.raises(LeadershipLost):
        await a.keep()


async def test_renewal_keeps_going_across_a_short_store_outage() -> None:
    clock = ManualClock(NOW)
    store = MemoryLeases()
    a = Leadership(store, clock, "a", ttl=TTL, renew=timedelta(seconds=0.01))
    b = replica(store, clock, "b")
    assert await a.try_acquire()
    store.down = True
    # Still valid by its own clock: a failed renewal is tried again, not fatal.
    clock.advance(timedelta(seconds=5))
    keeping = asyncio.create_task(a.keep())
    await asyncio.sleep(0.05)
    assert not keeping.done()
    store.down = False
    await asyncio.sleep(0.05)
    assert not keeping.done() and a.is_leader
    assert not await b.try_acquire()
    keeping.cancel()
    await asyncio.gather(keeping, return_exceptions=True)


def test_each_new_term_has_a_higher_epoch_and_renewals_keep_it() -> None:
    first = claim(None, "s", "a", NOW, TTL)
    assert first is not None and first.epoch == 1
    renewed = claim(first, "s", "a", NOW + timedelta(seconds=5), TTL)
    assert renewed is not None and renewed.epoch == 1
    taken = claim(renewed, "s", "b", NOW + timedelta(seconds=30), TTL)
    assert taken is not None and taken.epoch == 2
    # The same owner coming back after its lease ran out starts a new term too.
    back = claim(taken, "s", "b", NOW + timedelta(seconds=60), TTL)
    assert back is not None and back.epoch == 3
    gone = released(back, "b", NOW + timedelta(seconds=61))
    assert gone is not None and gone.epoch == 3
    after = claim(gone, "s", "a", NOW + timedelta(seconds=61), TTL)
    assert after is not None and after.epoch == 4


async def test_a_leader_whose_term_changed_steps_down() -> None:
    clock = ManualClock(NOW)
    store = MemoryLeases()
    a = Leadership(store, clock, "a", ttl=TTL, renew=timedelta(seconds=0.05))
    assert await a.try_acquire() and a.epoch == 1
    keeping = asyncio.create_task(a.keep())
    await asyncio.sleep(0)
    # Its lease ran out unseen (a pause longer than the TTL) and it claims it anew.
    clock.advance(TTL + timedelta(seconds=1))
    assert await a.try_acquire() and a.epoch == 2
    with pytest.raises(LeadershipLost):
        async with asyncio.timeout(10):
            await keeping
