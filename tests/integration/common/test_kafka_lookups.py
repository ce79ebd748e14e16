"""Looking a topic up never creates it (`lc_common.kafka_lookups`), on the real broker:
Tansu, like a Kafka with auto-creation on, would otherwise make it with its defaults."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaTimeoutError, UnknownTopicOrPartitionError

from lc_common.kafka import kafka_client_options
from lc_common.settings import ServiceSettings

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(60)]


async def test_looking_a_missing_topic_up_leaves_it_missing(service_env: dict[str, str]) -> None:
    options = kafka_client_options(ServiceSettings())
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    producer = AIOKafkaProducer(**options, request_timeout_ms=2000)
    await producer.start()
    try:
        await admin.describe_topics([ghost])
        with pytest.raises((UnknownTopicOrPartitionError, KafkaTimeoutError)):
            await producer.send_and_wait(ghost, b"lead")
        assert ghost not in await admin.list_topics()
    finally:
        await producer.stop()
        await admin.close()
