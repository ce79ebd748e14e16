"""A trunk's request topic created anew with fewer partitions than its lanes (a broker
restarted empty, where a consumer's subscription created it with the broker's default):
the publisher's recovery reads the partitions again and dispatches to those that exist."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from lc_common.events import ProbeRequestV1, probe_requests
from lc_common.kafka import Publisher, ensure_topics, kafka_client_options
from lc_common.settings import ServiceSettings
from lc_common.trunks import Trunk
from lc_scheduler.adapters.kafka import KafkaProbePublisher

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]

TRUNK = Trunk(name="wide", host="127.0.0.1", channels=40, cps=40, lanes=4)


def request(i: int) -> tuple[str, ProbeRequestV1]:
    lead_id = f"bat_w:{i:09d}"
    return lead_id, ProbeRequestV1(
        account_id="acc_w",
        batch_id="bat_w",
        lead_id=lead_id,
        e164=f"+614{i:08d}",
        attempt=1,
        trunk=TRUNK.name,
        probe_id=f"prb_{uuid.uuid4().hex[:12]}",
    )


async def partition_of(settings: ServiceSettings, name: str, leads: set[str]) -> dict[str, int]:
    """The partition each of these leads' requests landed on (read until all arrived)."""
    reader = AIOKafkaConsumer(
        settings.topic(name),
        **kafka_client_options(settings),
        group_id=f"test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await reader.start()
    found: dict[str, int] = {}
    try:
        while not leads <= set(found):
            for tp, records in (await reader.getmany(timeout_ms=1000)).items():
                for record in records:
                    found[ProbeRequestV1.model_validate_json(record.value or b"").lead_id] = (
                        tp.partition
                    )
    finally:
        await reader.stop()
    return found


async def test_a_topic_recreated_with_fewer_partitions_gets_the_requests_after_recovery(
    service_env: dict[str, str],
) -> None:
    settings = ServiceSettings()
    topic = probe_requests(TRUNK)
    full = settings.topic(topic.name)
    await ensure_topics(settings, [topic])
    publisher = Publisher(settings)
    await publisher.start()
    probes = KafkaProbePublisher(settings, publisher, [TRUNK])
    try:
        await probes.publish_many(topic, [request(i) for i in range(4)])
        admin = AIOKafkaAdminClient(**kafka_client_options(settings))
        await admin.start()
        try:
            await admin.delete_topics([full])
            await admin.create_topics([NewTopic(full, num_partitions=2, replication_factor=1)])
        finally:
            await admin.close()
        await publisher.producer.client.force_metadata_update()
        # The lanes read before no longer exist: the send is refused by the client.
        with pytest.raises(AssertionError, match="Unrecognized partition"):
            await probes.publish_many(topic, [request(i) for i in range(4, 8)])
        await probes.recover()
        await probes.publish_many(topic, [request(i) for i in range(8, 12)])
    finally:
        await publisher.stop()
    after = {request(i)[0] for i in range(8, 12)}
    landed = await partition_of(settings, topic.name, after)
    assert Counter(landed[lead] for lead in after) == {0: 2, 1: 2}
