"""A consumer whose position is past the end of its partition goes back to the start.

After the broker loses its data and comes back empty, a consumer may hold (or find
committed) a position from before: offset 300 of a partition that now ends at 5.
Kafka answers such a fetch with OFFSET_OUT_OF_RANGE and the consumer resets by
`auto_offset_reset` (earliest here). Tansu, the local broker, answers with an empty
batch instead (measured: a group committed at 50 on a partition ending at 5 fetched
nothing for good), so the consumer would wait for offset 300 forever: the prober
stopped taking requests after a broker loss. This does what Kafka's reset does,
from the partitions' end offsets; on Kafka it never has anything to do.
Every handler is idempotent (the prober's by probe id), so reading the partition's
new records from the start repeats nothing that matters.
"""

from __future__ import annotations

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from lc_common.metrics import POSITIONS_PAST_END

log = structlog.get_logger(__name__)

CHECK_EVERY_SECONDS = 10.0


async def rewind_past_end(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """Seek each assigned partition whose position is past its high watermark to its start.

    Returns the partitions rewound (their committed state must be forgotten by the caller).
    """
    assigned = list(consumer.assignment())
    if not assigned:
        return []
    # Asked of the broker (ListOffsets), not taken from the last fetch: a consumer
    # whose fetches fail or answer nothing may never learn its high watermark.
    try:
        ends = await consumer.end_offsets(assigned)
    except KafkaError as exc:  # a partition the topic lost, a broker away: look next time
        log.info("end_offsets_unavailable", topic=topic, error=repr(exc))
        return []
    rewound = []
    for tp in assigned:
        end = ends.get(tp)
        if end is None:
            continue
        position = await consumer.position(tp)
        if position > end:
            await consumer.seek_to_beginning(tp)
            POSITIONS_PAST_END.labels(topic).inc()
            rewound.append(tp)
    return rewound
