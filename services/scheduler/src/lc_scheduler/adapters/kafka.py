"""The scheduler's side of the broker: its topics and the probe-request publisher."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
from lc_common.settings import ServiceSettings
from lc_common.trunks import Trunk

INPUT_TOPICS = (LEADS_ACCEPTED, PROBE_RETRIES, LEAD_VERDICTS, BATCH_EVENTS, BILLING_EVENTS)


def scheduler_topics(trunks: Sequence[Trunk]) -> list[Topic]:
    """Every topic the scheduler reads or writes."""
    return [*INPUT_TOPICS, LEADS_DISPATCHED, *(probe_requests(t) for t in trunks)]


class KafkaProbePublisher:
    """Publishes probe requests; re-creates the topics if the broker lost them."""

    def __init__(
        self, settings: ServiceSettings, publisher: Publisher, trunks: Sequence[Trunk]
    ) -> None:
        self._settings = settings
        self._publisher = publisher
        self._trunks = list(trunks)

    async def publish_many(self, topic: Topic | str, events: Iterable[tuple[str, Event]]) -> int:
        return await self._publisher.publish_many(topic, events)

    async def recover(self) -> None:
        await ensure_topics(self._settings, scheduler_topics(self._trunks))
