"""The consumer's parts that need no broker: work in flight and its offsets, the spec's
strategy and the loop it chooses."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
import structlog
from aiokafka import ConsumerRecord, TopicPartition

from lc_common.consumer import Bulk, ConsumerSpec, Lanes, Single
from lc_common.consuming.bulk import BulkLoop
from lc_common.consuming.flight import InFlight, Session
from lc_common.consuming.lane_loop import LanesLoop
from lc_common.consuming.records import RecordProcessor
from lc_common.consuming.runner import strategy_loop
from lc_common.consuming.single import SingleLoop
from lc_common.events import BATCH_EVENTS, BatchEventV1
from lc_common.kafka import Publisher
from lc_common.settings import ServiceSettings

TP = TopicPartition("t", 0)


class NoLimits:
    def limit(self, partition: int) -> int:
        return 1

    def assigned(self, partitions: frozenset[int]) -> None:
        pass

    def revoked(self, partitions: frozenset[int]) -> None:
        pass


async def handle(event: BatchEventV1) -> None:
    pass


async def test_work_that_succeeds_frees_its_offsets_for_the_commit() -> None:
    flight = InFlight("t")
    gate = asyncio.Event()

    async def work() -> None:
        await gate.wait()

    flight.launch([(TP, 5), (TP, 6)], work())
    assert flight.tracker.committable() == {TP: 5}
    gate.set()
    await flight.drain()
    assert flight.tracker.committable() == {TP: 7}
    flight.raise_if_failed()


async def test_work_that_fails_holds_its_offsets_and_its_error_is_raised() -> None:
    flight = InFlight("t")

    async def ok() -> None:
        pass

    async def broken() -> None:
        raise ConnectionError("store down")

    flight.launch([(TP, 3)], broken())
    flight.launch([(TP, 4)], ok())
    await flight.drain()
    assert flight.tracker.committable() == {TP: 3}
    assert not flight.tasks
    with pytest.raises(ConnectionError):
        flight.raise_if_failed()


def test_the_default_strategy_is_one_event_at_a_time_at_least_once() -> None:
    spec: ConsumerSpec[BatchEventV1] = ConsumerSpec(BATCH_EVENTS, "g", handle)
    assert spec.strategy == Single(concurrency=1)
    assert not spec.at_most_once


def test_only_lanes_that_commit_before_handling_are_at_most_once() -> None:
    lanes = Lanes(NoLimits(), concurrency=4, commit_before_handle=True)
    assert ConsumerSpec(BATCH_EVENTS, "g", handle, lanes).at_most_once
    assert not ConsumerSpec(BATCH_EVENTS, "g", handle, Lanes(NoLimits(), 4)).at_most_once


@pytest.mark.parametrize(
    ("strategy", "loop", "commits_done"),
    [
        (Single(3), SingleLoop, True),
        (Lanes(NoLimits(), 4), LanesLoop, True),
        (Lanes(NoLimits(), 4, commit_before_handle=True), LanesLoop, False),
        (Bulk(lambda events: handle(events[0])), BulkLoop, True),
    ],
)
def test_the_spec_strategy_chooses_the_loop(strategy: Any, loop: type, commits_done: bool) -> None:
    spec: ConsumerSpec[BatchEventV1] = ConsumerSpec(BATCH_EVENTS, "g", handle, strategy)
    session = Session(
        spec, consumer=None, flight=InFlight("t"), records=None, commit=None, fetched=None
    )  # type: ignore[arg-type]
    chosen = strategy_loop(session)
    assert isinstance(chosen, loop)
    assert chosen.commits_done is commits_done


def record_of(event: BatchEventV1) -> ConsumerRecord[bytes, bytes]:
    value = event.to_bytes()
    return ConsumerRecord("t", 0, 7, 0, 0, b"k", value, None, 1, len(value), ())


@pytest.mark.parametrize(
    ("failures", "calls", "raised"), [(0, 1, False), (2, 3, False), (9, 3, True)]
)
async def test_a_failing_handler_is_tried_until_its_attempts_are_spent(
    failures: int, calls: int, raised: bool
) -> None:
    tried: list[int] = []

    async def flaky(event: BatchEventV1) -> None:
        tried.append(1)
        if len(tried) <= failures:
            raise ConnectionError("store hiccup")

    spec = ConsumerSpec(BATCH_EVENTS, "g", flaky, max_attempts=3, max_backoff_seconds=0.01)
    processor = RecordProcessor(ServiceSettings(), spec, cast(Publisher, None))
    event = BatchEventV1(account_id="a", batch_id="b", kind="queued")
    with structlog.testing.capture_logs() as logs:
        if raised:
            with pytest.raises(ConnectionError):
                await processor.process(record_of(event))
        else:
            await processor.process(record_of(event))
    assert len(tried) == calls
    retries = [line["attempt"] for line in logs if line["event"] == "handler_retry"]
    assert retries == list(range(1, min(failures, 2) + 1))
