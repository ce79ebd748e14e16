"""A renamed consumer group takes over its legacy group's committed offsets.

Kafka has no group rename, and aiokafka's admin client cannot alter a group's
offsets (nor read them from Tansu: its `list_consumer_group_offsets` fails to
decode Tansu's answer), so this is done by hand with a consumer that assigns the
partitions itself and never joins either group: `committed()` reads each group's
offsets, and `commit()` writes the new group's (Kafka accepts a commit for an empty
group from such a "simple" consumer, as `kafka-consumer-groups --reset-offsets` does).

Only a new group with no offsets of the topic adopts; once its consumers commit,
the legacy group is never read again. Two replicas starting together may both
adopt: they commit the same offsets, before either has consumed.
"""

from __future__ import annotations

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from lc_common.kafka import kafka_client_options
from lc_common.metrics import GROUP_OFFSETS_ADOPTED
from lc_common.settings import ServiceSettings

log = structlog.get_logger(__name__)


async def adopt_legacy_offsets(
    settings: ServiceSettings, group: str, legacy: str, topic: str
) -> dict[int, int]:
    """Commit `legacy`'s offsets of `topic` for `group` if `group` has none of it yet.

    Names are logical (the deployment's prefix is added here). Returns the adopted
    offsets by partition (empty when there was nothing to adopt).
    """
    full_topic = settings.topic(topic)
    ours = simple_consumer(settings, group)
    await ours.start()
    try:
        await ours.topics()  # the topic's partitions, from a fresh metadata answer
        partitions = [
            TopicPartition(full_topic, p)
            for p in sorted(ours.partitions_for_topic(full_topic) or ())
        ]
        if not partitions or await committed_offsets(ours, partitions):
            return {}
        theirs_consumer = simple_consumer(settings, legacy)
        await theirs_consumer.start()
        try:
            theirs = await committed_offsets(theirs_consumer, partitions)
        finally:
            await theirs_consumer.stop()
        if not theirs:
            return {}
        ours.assign(list(theirs))
        await ours.commit({tp: OffsetAndMetadata(off, "") for tp, off in theirs.items()})
    finally:
        await ours.stop()
    adopted = {tp.partition: off for tp, off in sorted(theirs.items())}
    GROUP_OFFSETS_ADOPTED.labels(group).inc(len(adopted))
    log.warning("group_offsets_adopted", group=group, legacy=legacy, topic=topic, offsets=adopted)
    return adopted


def simple_consumer(
    settings: ServiceSettings, group: str, offset_reset: str = "latest"
) -> AIOKafkaConsumer:
    """A consumer that speaks for `group` (logical name) without ever joining it."""
    return AIOKafkaConsumer(
        **kafka_client_options(settings),
        group_id=settings.topic(group),
        enable_auto_commit=False,
        auto_offset_reset=offset_reset,
    )


async def committed_offsets(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """The group's committed offsets of these partitions (the ones never committed left out)."""
    found = {tp: await consumer.committed(tp) for tp in partitions}
    return {tp: off for tp, off in found.items() if off is not None and off >= 0}
