"""Reads the pauses of `batch.events` into `lc_prober.domain.pauses.Pauses`.

The topic is read from its beginning, without a consumer group (every replica
needs every pause, and nothing is committed); the prober dials nothing until it
has read up to the end offsets it found at start (`Pauses.caught_up`).
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from lc_common.events import BATCH_EVENTS, BatchEventV1
from lc_common.kafka import kafka_client_options
from lc_common.settings import ServiceSettings
from lc_prober.domain.pauses import Pauses

log = structlog.get_logger(__name__)


async def read_pauses(settings: ServiceSettings, pauses: Pauses) -> None:
    """Read `batch.events` into `pauses` until cancelled; set `caught_up` once at the end."""
    topic = settings.topic(BATCH_EVENTS.name)
    consumer = AIOKafkaConsumer(
        **kafka_client_options(settings), group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            for records in batches.values():
                for record in records:
                    try:
                        pauses.apply(BatchEventV1.model_validate_json(record.value or b""))
                    except ValidationError:
                        continue  # poison: the batch consumers park it
            if not pauses.caught_up.is_set() and await _reached(consumer, ends):
                pauses.caught_up.set()
                log.info("pauses_caught_up", partitions=len(partitions))
    finally:
        await consumer.stop()


async def _reached(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    while True:
        await consumer.topics()  # refreshes the metadata partitions_for_topic reads
        found = consumer.partitions_for_topic(topic)
        if found:
            return [TopicPartition(topic, p) for p in sorted(found)]
        await asyncio.sleep(0.5)
