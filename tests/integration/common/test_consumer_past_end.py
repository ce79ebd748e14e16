"""A group whose committed offset is past the end of its partition (the broker came back
empty) reads the partition's records from the start, as Kafka's offset reset would."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import OffsetAndMetadata
from tests.support import until

from lc_common.consumer import ConsumerRunner, ConsumerSpec
from lc_common.consuming import runner as runner_module
from lc_common.consuming.past_end import rewind_past_end
from lc_common.events import BATCH_EVENTS, BatchEventV1
from lc_common.kafka import Publisher, ensure_topics, kafka_client_options
from lc_common.settings import ServiceSettings

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(90)]


async def test_a_position_past_the_end_goes_back_to_the_start(service_env: dict[str, str]) -> None:
    options = kafka_client_options(ServiceSettings())
    topic, group = f"past-end-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    tp = TopicPartition(topic, 0)
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(**options)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, b"lead-%d" % i, partition=0)
    finally:
        await producer.stop()
    # What a consumer of the broker's previous life left: a position 50 on a partition of 5.
    await _commit(options, group, tp, 50)

    consumer = AIOKafkaConsumer(
        topic, **options, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        values: list[bytes] = []
        for _ in range(100):
            batches = await consumer.getmany(timeout_ms=200)
            values += [record.value for records in batches.values() for record in records]
            if len(values) >= 5:
                break
            await rewind_past_end(consumer, topic)
        assert values == [b"lead-%d" % i for i in range(5)]
        assert await consumer.position(tp) == 5
        assert await rewind_past_end(consumer, topic) == []
    finally:
        await consumer.stop()


async def test_the_runner_handles_a_partition_whose_group_was_committed_past_its_end(
    service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "CHECK_EVERY_SECONDS", 0.2)
    settings = ServiceSettings()
    await ensure_topics(settings, [BATCH_EVENTS])
    topic = settings.topic(BATCH_EVENTS.name)
    publisher = Publisher(settings)
    await publisher.start()
    for batch_id in ("a", "b", "c"):
        event = BatchEventV1(account_id="acc", batch_id=batch_id, kind="queued")
        await publisher.publish(BATCH_EVENTS, event, key="same")
    partition = await _partition_holding(settings, topic)
    await _commit(
        kafka_client_options(settings),
        settings.topic("past-end"),
        TopicPartition(topic, partition),
        500,
    )

    handled: list[str] = []

    async def handle(event: BatchEventV1) -> None:
        handled.append(event.batch_id)

    runner = ConsumerRunner(settings, ConsumerSpec(BATCH_EVENTS, "past-end", handle), publisher)
    task = asyncio.create_task(runner.run())
    try:
        await until(lambda: len(handled) == 3, 30, "the three events handled")
        assert handled == ["a", "b", "c"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await publisher.stop()


async def _commit(options: dict[str, Any], group: str, tp: TopicPartition, offset: int) -> None:
    """Commit `offset` of `tp` for `group`, from a consumer that only assigns itself `tp`."""
    committer = AIOKafkaConsumer(**options, group_id=group, enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign([tp])
        await committer.commit({tp: OffsetAndMetadata(offset, "")})
    finally:
        await committer.stop()


async def _partition_holding(settings: ServiceSettings, topic: str) -> int:
    """The partition that the events keyed `same` went to."""
    consumer = AIOKafkaConsumer(
        topic, **kafka_client_options(settings), auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while True:
                for tp, records in (await consumer.getmany(timeout_ms=200)).items():
                    if records:
                        return int(tp.partition)
    finally:
        await consumer.stop()
