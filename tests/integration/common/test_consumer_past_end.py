"""A group whose committed offset is past the end of its partition (the broker came back
empty) reads the partition's records from the start, as Kafka's offset reset would."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import OffsetAndMetadata

from lc_common.consuming.past_end import rewind_past_end
from lc_common.kafka import kafka_client_options
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
    committer = AIOKafkaConsumer(**options, group_id=group, enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign([tp])
        await committer.commit({tp: OffsetAndMetadata(50, "")})
    finally:
        await committer.stop()

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
