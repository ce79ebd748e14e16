"""How far a group has read, as a time, on the real broker: the timestamp of the first
event it has not committed, `now` once it has committed everything."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from tests.support import commit_as

from lc_common.consuming.progress import handled_before
from lc_common.events import BatchEventV1
from lc_common.events.registry import Topic
from lc_common.kafka import ensure_topics, kafka_client_options
from lc_common.settings import ServiceSettings

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(90)]

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def test_a_group_has_read_up_to_its_first_uncommitted_event(
    service_env: dict[str, str],
) -> None:
    settings = ServiceSettings()
    tag = uuid.uuid4().hex[:8]
    topic = Topic(f"progress.{tag}", BatchEventV1, "test", ("test",), partitions=1)
    group = f"test.progress-{tag}"
    await ensure_topics(settings, [topic])
    stamps = [NOW - timedelta(minutes=30 - i) for i in range(3)]
    producer = AIOKafkaProducer(**kafka_client_options(settings))
    await producer.start()
    try:
        event = BatchEventV1(account_id="a", batch_id="b", kind="queued").to_bytes()
        for stamp in stamps:
            await producer.send_and_wait(
                settings.topic(topic.name),
                event,
                partition=0,
                timestamp_ms=int(stamp.timestamp() * 1000),
            )
    finally:
        await producer.stop()

    # Never committed: behind from the first event.
    assert await handled_before(settings, group, topic.name, NOW) == stamps[0]
    await commit_as(settings, group, topic.name, 2)
    assert await handled_before(settings, group, topic.name, NOW) == stamps[2]
    await commit_as(settings, group, topic.name, 3)
    assert await handled_before(settings, group, topic.name, NOW) == NOW
