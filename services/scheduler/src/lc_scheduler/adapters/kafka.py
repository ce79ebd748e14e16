"""The scheduler's side of the broker: its topics and the probe-request publisher."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Iterator, Sequence

import structlog

from lc_common.events import (
    BATCH_EVENTS,
    BILLING_EVENTS,
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    LEADS_DISPATCHED,
    PROBE_RETRIES,
    Event,
    Topic,
    probe_requests,
)
from lc_common.kafka import Publisher, ensure_topics
from lc_common.lanes import lane_cycle, lane_shares
from lc_common.metrics import EVENTS_PUBLISHED
from lc_common.settings import ServiceSettings
from lc_common.trunks import Trunk

log = structlog.get_logger(__name__)

INPUT_TOPICS = (LEADS_ACCEPTED, PROBE_RETRIES, LEAD_VERDICTS, BATCH_EVENTS, BILLING_EVENTS)


def scheduler_topics(trunks: Sequence[Trunk]) -> list[Topic]:
    """Every topic the scheduler reads or writes."""
    return [*INPUT_TOPICS, LEADS_DISPATCHED, *(probe_requests(t) for t in trunks)]


class KafkaProbePublisher:
    """Publishes probe requests; re-creates the topics if the broker lost them.

    A trunk's requests go to its lanes (partitions) in turn, each lane in proportion
    to its CPS (`lc_common.lanes.lane_cycle`), not by the hash of their key: every
    lane then gets the work it can start, and none holds the trunk's outstanding
    requests in its queue while another idles. Other topics are keyed as usual.
    """

    def __init__(
        self, settings: ServiceSettings, publisher: Publisher, trunks: Sequence[Trunk]
    ) -> None:
        self._settings = settings
        self._publisher = publisher
        self._trunks = list(trunks)
        self._by_topic = {probe_requests(t).name: t for t in trunks}
        self._cycles: dict[str, Iterator[int]] = {}

    async def publish_many(self, topic: Topic | str, events: Iterable[tuple[str, Event]]) -> int:
        name = topic.name if isinstance(topic, Topic) else topic
        if name not in self._by_topic:
            return await self._publisher.publish_many(topic, events)
        full = self._settings.topic(name)
        cycle = await self._cycle(name, full)
        producer = self._publisher.producer
        futures = [
            await producer.send(full, e.to_bytes(), key=key.encode(), partition=next(cycle))
            for key, e in events
        ]
        if futures:
            await asyncio.gather(*futures)
        EVENTS_PUBLISHED.labels(name).inc(len(futures))
        return len(futures)

    async def _cycle(self, name: str, full: str) -> Iterator[int]:
        """The trunk's lanes in turn, from the partitions its topic really has."""
        if name not in self._cycles:
            trunk = self._by_topic[name]
            partitions = len(await self._publisher.producer.partitions_for(full))
            declared = probe_requests(trunk).partitions
            if partitions < declared:
                log.error(
                    "trunk_topic_short_of_lanes",
                    trunk=trunk.name,
                    partitions=partitions,
                    declared=declared,
                )
            try:
                order = lane_cycle(lane_shares(trunk, partitions))
            except ValueError:  # more partitions than lanes: the probers refuse them anyway
                log.warning("lanes_unknown", trunk=trunk.name, partitions=partitions)
                order = list(range(partitions))
            self._cycles[name] = itertools.cycle(order)
        return self._cycles[name]

    async def recover(self) -> None:
        """After a failed publish: create lost topics, and read each trunk topic's
        partitions again on the next publish (a topic created anew, by a consumer's
        subscription on a broker that creates topics, may have fewer lanes than before)."""
        await ensure_topics(self._settings, scheduler_topics(self._trunks))
        await self._publisher.producer.client.force_metadata_update()
        self._cycles.clear()
