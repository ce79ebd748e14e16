"""A group renamed by the naming rule takes over its legacy group's offsets on the real
broker: its runner starts where the legacy group stopped, not from the topic's start."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from tests.support import commit_as, until

from lc_common.consumer import ConsumerRunner, ConsumerSpec
from lc_common.consuming.adopt import adopt_legacy_offsets
from lc_common.events import BatchEventV1
from lc_common.events.registry import Topic
from lc_common.kafka import Publisher, ensure_topics
from lc_common.settings import ServiceSettings

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(90)]


async def test_a_renamed_group_starts_where_its_legacy_group_stopped(
    service_env: dict[str, str],
) -> None:
    settings = ServiceSettings()
    tag = uuid.uuid4().hex[:8]
    topic = Topic(f"adopt.{tag}", BatchEventV1, "test", ("test",), partitions=1)
    legacy, group = f"legacy-{tag}", f"test.adopt-{tag}"
    await ensure_topics(settings, [topic])
    publisher = Publisher(settings)
    await publisher.start()
    names = [f"b{i}" for i in range(10)]
    try:
        for name in names:
            await publisher.publish(
                topic, BatchEventV1(account_id="a", batch_id=name, kind="queued"), key="k"
            )
        await commit_as(settings, legacy, topic.name, 4)
        seen: list[str] = []

        async def handle(event: BatchEventV1) -> None:
            seen.append(event.batch_id)

        spec = ConsumerSpec(topic, group, handle, legacy_group=legacy)
        task = asyncio.create_task(ConsumerRunner(settings, spec, publisher).run())
        try:
            await until(lambda: len(seen) >= 6, within=60)
            # In offset order: a runner that started from the topic's start saw b0 first.
            assert seen[:6] == names[4:]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # The new group has offsets of its own now: the legacy one is never read again.
        assert await adopt_legacy_offsets(settings, group, legacy, topic.name) == {}
    finally:
        await publisher.stop()


async def test_nothing_is_adopted_from_a_legacy_group_that_never_committed(
    service_env: dict[str, str],
) -> None:
    settings = ServiceSettings()
    tag = uuid.uuid4().hex[:8]
    topic = Topic(f"adopt.{tag}", BatchEventV1, "test", ("test",), partitions=2)
    await ensure_topics(settings, [topic])
    assert await adopt_legacy_offsets(settings, f"new-{tag}", f"old-{tag}", topic.name) == {}
