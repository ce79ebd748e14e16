"""The `Bulk` strategy on the real broker: events checked one by one (the bad ones parked
alone), the good ones handed over in bulks retried as a whole, and all of it committed."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from tests.support import until

from lc_common.consumer import Bulk, ConsumerRunner, ConsumerSpec
from lc_common.errors import PoisonEvent
from lc_common.events import BatchEventV1
from lc_common.events.registry import Topic
from lc_common.kafka import Publisher, ensure_topics, kafka_client_options
from lc_common.settings import ServiceSettings

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(90)]


async def committed(settings: ServiceSettings, group: str, topic: str) -> int | None:
    consumer = AIOKafkaConsumer(
        **kafka_client_options(settings), group_id=settings.topic(group), enable_auto_commit=False
    )
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(settings.topic(topic), 0))
    finally:
        await consumer.stop()


async def test_bad_events_are_parked_alone_and_the_bulk_retried_then_committed(
    service_env: dict[str, str],
) -> None:
    settings = ServiceSettings()
    topic = Topic(f"bulk.{uuid.uuid4().hex[:8]}", BatchEventV1, "test", ("test",), partitions=1)
    group = f"bulk-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, [topic])
    publisher = Publisher(settings)
    await publisher.start()
    bulks: list[list[str]] = []
    failures = [ConnectionError("store hiccup")] * 2

    async def check(event: BatchEventV1) -> None:
        if event.batch_id == "poison":
            raise PoisonEvent("impossible batch")

    async def handle_many(events: Sequence[BatchEventV1]) -> None:
        if failures:
            raise failures.pop()
        bulks.append([e.batch_id for e in events])

    async def handle_one(event: BatchEventV1) -> None:
        raise AssertionError("the Bulk strategy hands whole fetches to its handler")

    strategy = Bulk(handle_many, check=check, max_bulk=50)
    spec = ConsumerSpec(topic, group, handle_one, strategy, max_backoff_seconds=0.1)
    names = [f"b{i}" for i in range(10)]
    for name in names[:5]:
        await publisher.publish(
            topic, BatchEventV1(account_id="a", batch_id=name, kind="queued"), key="k"
        )
    await publisher.publish(
        topic, BatchEventV1(account_id="a", batch_id="poison", kind="queued"), key="k"
    )
    await publisher.producer.send_and_wait(settings.topic(topic.name), b"{not json", partition=0)
    for name in names[5:]:
        await publisher.publish(
            topic, BatchEventV1(account_id="a", batch_id=name, kind="queued"), key="k"
        )
    runner = ConsumerRunner(settings, spec, publisher)
    task = asyncio.create_task(runner.run())
    try:
        await until(lambda: sum(len(b) for b in bulks) >= 10, within=60)
        assert [n for b in bulks for n in b] == names
        assert all(len(b) <= 50 for b in bulks)
        assert not failures  # both failures were retried away
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    try:
        assert await committed(settings, group, topic.name) == 12
        parked = AIOKafkaConsumer(
            settings.topic(topic.dlq),
            **kafka_client_options(settings),
            auto_offset_reset="earliest",
            group_id=settings.topic(f"{group}-dlq"),
        )
        await parked.start()
        try:
            found: list[tuple[bytes, dict[str, bytes]]] = []
            async with asyncio.timeout(30):
                while len(found) < 2:
                    batch = await parked.getmany(timeout_ms=500)
                    found += [(r.value, dict(r.headers)) for rs in batch.values() for r in rs]
        finally:
            await parked.stop()
        reasons = sorted(headers["lc-dlq-reason"] for _, headers in found)
        assert reasons == [b"poison", b"undecodable"]
        assert {h["lc-source-topic"] for _, h in found} == {settings.topic(topic.name).encode()}
        assert {h["lc-consumer-group"] for _, h in found} == {group.encode()}
    finally:
        await publisher.stop()


async def test_a_bulk_that_keeps_failing_ends_the_runner_and_commits_nothing(
    service_env: dict[str, str],
) -> None:
    settings = ServiceSettings()
    topic = Topic(f"bulk.{uuid.uuid4().hex[:8]}", BatchEventV1, "test", ("test",), partitions=1)
    group = f"bulk-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, [topic])
    publisher = Publisher(settings)
    await publisher.start()

    async def handle_many(events: Sequence[BatchEventV1]) -> None:
        raise ConnectionError("store down")

    async def handle_one(event: BatchEventV1) -> None:
        raise AssertionError("not used")

    spec = ConsumerSpec(
        topic, group, handle_one, Bulk(handle_many), max_attempts=2, max_backoff_seconds=0.1
    )
    try:
        await publisher.publish(
            topic, BatchEventV1(account_id="a", batch_id="b0", kind="queued"), key="k"
        )
        with pytest.raises(ConnectionError):
            async with asyncio.timeout(60):
                await ConsumerRunner(settings, spec, publisher).run()
        # Committed no further than the failed event: its next owner handles it again.
        assert (await committed(settings, group, topic.name) or 0) == 0
    finally:
        await publisher.stop()


async def test_a_partition_with_a_few_events_is_not_left_behind_a_full_one(
    service_env: dict[str, str],
) -> None:
    """A small batch's leads on their own partition reach the handler in the first bulks,
    not after everything the consumer had buffered of a big batch's partition."""
    settings = ServiceSettings()
    topic = Topic(f"bulk.{uuid.uuid4().hex[:8]}", BatchEventV1, "test", ("test",), partitions=2)
    group = f"bulk-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, [topic])
    publisher = Publisher(settings)
    await publisher.start()
    # As an import publishes: large record batches, so one fetch buffers thousands.
    producer = AIOKafkaProducer(
        **kafka_client_options(settings), linger_ms=100, max_batch_size=1 << 20
    )
    await producer.start()
    try:
        for partition, batch_id, count in ((0, "big", 3000), (1, "small", 20)):
            event = BatchEventV1(account_id="a", batch_id=batch_id, kind="queued").to_bytes()
            name = settings.topic(topic.name)
            sent = [await producer.send(name, event, partition=partition) for _ in range(count)]
            await asyncio.gather(*sent)
    finally:
        await producer.stop()
    bulks: list[list[str]] = []

    async def handle_many(events: Sequence[BatchEventV1]) -> None:
        bulks.append([e.batch_id for e in events])

    async def handle_one(event: BatchEventV1) -> None:
        raise AssertionError("not used")

    spec = ConsumerSpec(topic, group, handle_one, Bulk(handle_many, max_bulk=200))
    task = asyncio.create_task(ConsumerRunner(settings, spec, publisher).run())
    try:
        await until(lambda: sum(len(b) for b in bulks) >= 3020, within=60)
        first_small = next(i for i, bulk in enumerate(bulks) if "small" in bulk)
        # Unfairly drained, the small partition's events would come after the ~15 bulks of
        # the big one's buffer; the first fetch may still hold only what arrived first.
        assert first_small <= 1, [sorted(set(b)) for b in bulks[:4]]
        assert all(len(bulk) <= 200 for bulk in bulks)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await publisher.stop()
