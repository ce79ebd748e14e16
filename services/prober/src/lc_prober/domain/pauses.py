"""Pauses: requests of a batch paused after their dispatch are void, never dialled.

A client's pause must stop the calls of its batch within seconds, also those whose
requests already wait in a trunk's topic. The rule, shared with the scheduler
(`lc_scheduler.handlers`, `domain.entries.voided_by_pause`): a probe request
dispatched at or before its batch's latest `paused` event (`occurred_at`) is
void. The prober drops it without a call and publishes nothing; the scheduler,
which applies the same pause, queues the lead again (same attempt, reservation
kept) for once the batch is resumed. Both sides compare the same two instants,
so a request is either dialled here or queued again there, never both.

The pauses are read from `batch.events` from its beginning, without a consumer
group (every replica needs every pause, and nothing is committed); the prober
dials nothing until it has read up to the end offsets it found at start.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from lc_common.events import BATCH_EVENTS, BatchEventV1, ProbeRequestV1
from lc_common.kafka import kafka_client_options
from lc_common.settings import ServiceSettings

log = structlog.get_logger(__name__)


class Pauses:
    """The latest pause of each batch, and whether a request is void by it."""

    def __init__(self) -> None:
        self._paused_at: dict[str, datetime] = {}
        self.caught_up = asyncio.Event()

    def apply(self, event: BatchEventV1) -> None:
        """Remember a `paused` event (the latest per batch); other kinds change nothing."""
        if event.kind != "paused":
            return
        known = self._paused_at.get(event.batch_id)
        if known is None or event.occurred_at > known:
            self._paused_at[event.batch_id] = event.occurred_at

    def voids(self, request: ProbeRequestV1) -> bool:
        """True if the request was dispatched at or before its batch's latest pause."""
        paused_at = self._paused_at.get(request.batch_id)
        return (
            paused_at is not None
            and request.dispatched_at is not None
            and request.dispatched_at <= paused_at
        )


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
