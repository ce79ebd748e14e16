"""The schedule's state is reached only inside a transaction, which holds its lock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from scheduler_fakes import Harness, MemoryStore, lead

from lc_common.clock import ManualClock
from lc_scheduler.domain.entries import Entry
from lc_scheduler.schedule import Schedule, TransactionClosed

NOON = datetime(2025, 3, 12, 1, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Sydney


def queued(lead_id: str, batch_id: str = "bat_t") -> Entry:
    return Entry(
        lead_id=lead_id,
        account_id="acc_1",
        batch_id=batch_id,
        e164="+61412345678",
        state="queued",
        attempt=1,
        due_at=NOON,
    )


async def test_a_transaction_used_after_its_block_refuses_every_call() -> None:
    store = MemoryStore()
    schedule = Schedule(store)
    async with schedule.transaction() as tx:
        assert await tx.insert([queued("bat_t:000000001")], NOON)
    with pytest.raises(TransactionClosed):
        tx.entry("bat_t:000000001")
    with pytest.raises(TransactionClosed):
        await tx.commit([queued("bat_t:000000002")])
    with pytest.raises(TransactionClosed):
        await tx.save_batches([])
    assert set(store.entries_by_id) == {"bat_t:000000001"}  # nothing written either


async def test_a_second_transaction_waits_for_the_first() -> None:
    schedule = Schedule(MemoryStore())
    order: list[str] = []
    first_open = asyncio.Event()

    async def first() -> None:
        async with schedule.transaction() as tx:
            first_open.set()
            await tx.insert([queued("bat_t:000000001")], NOON)
            await asyncio.sleep(0.01)  # a store write in flight
            order.append("first")

    async def second() -> None:
        await first_open.wait()
        async with schedule.transaction() as tx:
            order.append(f"second saw {len(tx.open_entries())}")

    await asyncio.gather(first(), second())
    assert order == ["first", "second saw 1"]


async def test_a_store_write_comes_before_the_working_copy() -> None:
    store = MemoryStore()
    schedule = Schedule(store)
    async with schedule.transaction() as tx:
        await tx.insert([queued("bat_t:000000001")], NOON)
        entry = tx.entry("bat_t:000000001")
        assert entry is not None
        record = tx.batch("bat_t")
        assert record is not None and record.active
    assert store.entries_by_id["bat_t:000000001"] == entry
    assert store.batch_records["bat_t"] == record


async def test_handlers_and_the_dispatcher_share_the_state_only_through_it() -> None:
    h = await Harness(ManualClock(NOON)).start()
    await h.accept(lead("bat_x", 1, "+61412345678"))
    [probe] = await h.round()
    assert await h.read(lambda tx: tx.outstanding("beta")) == {probe.lead_id}
    await h.verdict(probe, final=True)
    assert await h.read(lambda tx: (tx.open_entries(), tx.outstanding("beta"))) == ([], set())
