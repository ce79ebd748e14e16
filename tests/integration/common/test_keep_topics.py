"""`keep_topics` on the real broker: a topic that vanished (a broker restarted empty)
is created again, with its dead-letter twin and its partitions."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from tests.support import until

from lc_common.events import BILLING_EVENTS
from lc_common.kafka import ensure_topics, kafka_client_options, keep_topics, partition_count
from lc_common.settings import ServiceSettings

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(90)]


async def _existing(settings: ServiceSettings) -> set[str]:
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_a_vanished_topic_is_created_again(
    service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_TOPIC_CHECK_SECONDS", "0.2")
    settings = ServiceSettings()
    name, dlq = settings.topic(BILLING_EVENTS.name), settings.topic(BILLING_EVENTS.dlq)
    assert await ensure_topics(settings, [BILLING_EVENTS]) == [name, dlq]
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        await admin.delete_topics([name, dlq])
    finally:
        await admin.close()
    assert not {name, dlq} & await _existing(settings)

    keeper = asyncio.create_task(keep_topics(settings, [BILLING_EVENTS]))
    try:

        async def back() -> bool:
            return {name, dlq} <= await _existing(settings)

        await until(back, within=30, what="the topics back")
        assert await partition_count(settings, BILLING_EVENTS) == BILLING_EVENTS.partitions
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
