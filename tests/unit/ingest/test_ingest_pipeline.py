"""The import pipeline's hand-off between stages: bounded, and never stuck on a dead stage."""

from __future__ import annotations

import asyncio

import pytest

from lc_ingest.importer import handoff


async def test_a_handoff_waits_while_the_queue_is_full_then_puts() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue(1)
    taken: list[int] = []

    async def consume() -> None:
        await asyncio.sleep(0.05)
        while (item := await queue.get()) != 0:
            taken.append(item)

    consumer = asyncio.create_task(consume())
    for item in (1, 2, 3, 0):
        await handoff(queue, item, consumer)
        assert queue.qsize() <= 1
    await consumer
    assert taken == [1, 2, 3]


async def test_a_handoff_to_a_stage_that_failed_raises_its_error() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue(1)

    async def fail() -> None:
        await asyncio.sleep(0.01)
        raise ConnectionError("store down")

    consumer = asyncio.create_task(fail())
    await handoff(queue, 1, consumer)  # room for one
    with pytest.raises(ConnectionError, match="store down"):
        async with asyncio.timeout(5):
            await handoff(queue, 2, consumer)  # full: waits until the stage dies


async def test_a_handoff_to_a_stage_that_ended_early_raises() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue(1)
    consumer = asyncio.create_task(asyncio.sleep(0))
    await handoff(queue, 1, consumer)
    with pytest.raises(RuntimeError, match="ended before its input"):
        await handoff(queue, 2, consumer)
