"""The call's mailbox (events with a deadline) and the ACKs kept after a transaction."""

from __future__ import annotations

import asyncio

from lc_prober.adapters.sip.linger import LingeringAcks
from lc_prober.adapters.sip.mailbox import TIMED_OUT, Mailbox


async def test_events_wait_in_order_and_wake_a_waiter() -> None:
    loop = asyncio.get_running_loop()
    box = Mailbox(loop)
    box.put("a")
    box.put("b")
    assert await box.next(loop.time() + 1) == "a"
    assert await box.next(loop.time() + 1) == "b"
    loop.call_later(0.01, box.put, "c")
    assert await box.next(loop.time() + 5) == "c"
    box.close()


async def test_deadline_and_a_kept_earlier_timer() -> None:
    loop = asyncio.get_running_loop()
    box = Mailbox(loop)
    start = loop.time()
    assert await box.next(start + 0.05) is TIMED_OUT
    assert loop.time() - start >= 0.05
    # A wait with a later deadline keeps an earlier timer: it may return TIMED_OUT early.
    loop.call_later(0.01, box.put, "x")
    assert await box.next(loop.time() + 0.05) == "x"
    assert await box.next(loop.time() + 60) is TIMED_OUT
    # An expiry with nobody waiting is not lost: the next wait sees its past deadline.
    await asyncio.sleep(0)
    assert await box.next(loop.time() - 1) is TIMED_OUT
    box.close()


async def test_no_deadline_waits_for_an_event() -> None:
    loop = asyncio.get_running_loop()
    box = Mailbox(loop)
    waiting = asyncio.ensure_future(box.next(float("inf")))
    await asyncio.sleep(0.02)
    assert not waiting.done()
    box.put(1)
    assert await waiting == 1


def test_lingering_acks_expire_and_are_reclaimed() -> None:
    now = [100.0]
    acks = LingeringAcks(lambda: now[0])
    acks.add("a", b"ACK a", 32)
    acks.add("b", b"ACK b", 1)
    now[0] = 101.0
    assert acks.get("a") == b"ACK a" and acks.get("b") is None
    acks.add("c", b"ACK c", 32)  # "a" is not due, so "b" waits behind it for reclaiming
    assert len(acks) == 3
    now[0] = 133.0
    acks.add("d", b"ACK d", 32)
    assert len(acks) == 1 and acks.get("d") == b"ACK d"
    acks.add("d", b"ACK d2", 32)  # a re-sent final's ACK replaces the kept one
    now[0] = 165.5
    assert acks.get("d") is None
    acks.clear()
    assert len(acks) == 0
