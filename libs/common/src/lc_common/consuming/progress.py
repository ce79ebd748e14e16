"""How far a consumer group has got in a topic, as a time: every event published before
it has been handled and committed by the group.

The scheduler's re-drive takes back a lead it closed that ingest still holds open,
taking it that ingest lost the verdict. That is only true if ingest has read that far:
an ingest restarting (rejoining its group) or catching up after an outage holds leads
open whose verdicts merely wait for it, and taking those back would ring each number
again. Kafka has no such "read up to" time; it is read here from the first event past
the group's committed offset in each partition (its timestamp), with a consumer that
never joins the group.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiokafka import TopicPartition

from lc_common.consuming.adopt import committed_offsets, simple_consumer
from lc_common.settings import ServiceSettings

READ_TIMEOUT_SECONDS = 10.0


async def handled_before(
    settings: ServiceSettings, group: str, topic: str, now: datetime
) -> datetime:
    """The earliest timestamp of an event of `topic` (logical name) that `group` has not
    committed yet, or `now` if it has committed every partition to its end.

    Raises `TimeoutError` if such an event cannot be read within a few seconds.
    """
    full_topic = settings.topic(topic)
    # "earliest": a group that never committed a partition, or whose offset the broker
    # no longer has, is behind from the partition's first event.
    consumer = simple_consumer(settings, group, offset_reset="earliest")
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [
            TopicPartition(full_topic, p)
            for p in sorted(consumer.partitions_for_topic(full_topic) or ())
        ]
        committed = await committed_offsets(consumer, partitions)
        ends = await consumer.end_offsets(partitions)
        behind = {tp: committed.get(tp, 0) for tp in partitions if committed.get(tp, 0) < ends[tp]}
        if not behind:
            return now
        consumer.assign(list(behind))
        for tp, offset in behind.items():
            consumer.seek(tp, offset)
        earliest, unread = now, set(behind)
        async with asyncio.timeout(READ_TIMEOUT_SECONDS):
            while unread:
                fetched = await consumer.getmany(*unread, timeout_ms=500, max_records=1)
                for tp, records in fetched.items():
                    if records:
                        stamp = datetime.fromtimestamp(records[0].timestamp / 1000, UTC)
                        earliest = min(earliest, stamp)
                        unread.discard(tp)
        return earliest
    finally:
        await consumer.stop()
