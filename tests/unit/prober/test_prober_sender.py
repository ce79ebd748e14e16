"""The signalling sender: calls hand over their signalling and go; it is published in
batches, retried as a batch, flushed on close, and a publisher that keeps failing fails it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from lc_common.events import Event, ProbeSignallingV1, Topic
from lc_common.kafka import Publisher
from lc_prober.adapters.sender import SignallingSender


def signalling(i: int) -> ProbeSignallingV1:
    return ProbeSignallingV1.model_validate(
        {
            "account_id": "acc",
            "batch_id": "bat",
            "lead_id": f"bat:{i}",
            "probe_id": f"prb_{i}",
            "e164": "+61400000001",
            "attempt": 1,
            "trunk": "t",
            "call_id": f"c{i}",
            "started_at": datetime(2026, 3, 2, tzinfo=UTC),
            "ended_by": "cancelled",
            "responses": [],
            "duration_ms": 10,
        }
    )


class RecordingPublisher:
    """Records each batch published; fails the first `failures` tries; may be held."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.tries = 0
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def publish_many(self, topic: Topic | str, events: Iterable[tuple[str, Event]]) -> int:
        self.tries += 1
        await self.gate.wait()
        if self.tries <= self.failures:
            raise ConnectionError("broker unreachable (injected)")
        keys = [key for key, _ in events]
        self.batches.append(keys)
        return len(keys)


def sender(publisher: RecordingPublisher, attempts: int = 3, **kw: Any) -> SignallingSender:
    s = SignallingSender(cast(Publisher, publisher), attempts=attempts, backoff_max=0.01, **kw)
    s.start()
    return s


async def test_signalling_handed_over_meanwhile_goes_out_in_one_batch() -> None:
    publisher = RecordingPublisher()
    publisher.gate.clear()  # the first publication waits for its acknowledgement
    s = sender(publisher)
    s.put("bat:0", signalling(0))
    await asyncio.sleep(0.01)
    for i in range(1, 5):
        s.put(f"bat:{i}", signalling(i))  # returns at once: no call waits for a broker
    publisher.gate.set()
    await s.flush()
    assert publisher.batches == [["bat:0"], ["bat:1", "bat:2", "bat:3", "bat:4"]]
    await s.close()


async def test_a_failed_batch_is_retried_whole_and_close_flushes() -> None:
    publisher = RecordingPublisher(failures=2)
    retries: list[int] = []
    s = sender(publisher, on_retry=lambda n, _e: retries.append(n))
    s.put("bat:1", signalling(1))
    s.put("bat:2", signalling(2))
    await s.close()
    assert publisher.batches == [["bat:1", "bat:2"]]
    assert retries == [1, 2]


async def test_a_publisher_that_keeps_failing_fails_the_sender() -> None:
    publisher = RecordingPublisher(failures=100)
    s = sender(publisher, attempts=3)
    s.put("bat:1", signalling(1))
    await asyncio.wait_for(asyncio.shield(s.failed), 5)
    assert publisher.tries == 3
    with pytest.raises(RuntimeError, match="failed"):
        s.put("bat:2", signalling(2))
    await s.close()
