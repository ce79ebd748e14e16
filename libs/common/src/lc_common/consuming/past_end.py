"""A consumer whose position is past the end of its partition goes back to the start.

After the broker loses its data and comes back empty, a consumer may hold (or find
committed) a position from before: offset 300 of a partition that now ends at 5.
Kafka answers such a fetch with OFFSET_OUT_OF_RANGE and the consumer resets by
`auto_offset_reset` (earliest here). Tansu, the local broker, answers with an empty
batch instead (measured: a group committed at 50 on a partition ending at 5 fetched
nothing for good), so the consumer would wait for offset 300 forever: the prober
stopped taking requests after a broker loss. This does what Kafka's reset does,
from the high watermark the fetches report; on Kafka it never has anything to do.
Every handler is idempotent (the prober's by probe id), so reading the partition's
new records from the start repeats nothing that matters.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from lc_common.metrics import POSITIONS_PAST_END

CHECK_EVERY_SECONDS = 10.0


async def rewind_past_end(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """Seek each assigned partition whose position is past its high watermark to its start.

    Returns the partitions rewound (their committed state must be forgotten by the caller).
    """
    rewound = []
    for tp in consumer.assignment():
        end = consumer.highwater(tp)
        if end is None:
            continue  # no fetch answered yet: nothing known of the end
        position = await consumer.position(tp)
        if position > end:
            await consumer.seek_to_beginning(tp)
            POSITIONS_PAST_END.labels(topic).inc()
            rewound.append(tp)
    return rewound
