"""Per-partition lanes in the consumer runner, on the real broker: each partition's own
bound, a stopped lane paused without holding the others up, and resumed when allowed."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import pytest

from lc_common.consumer import ConsumerRunner, ConsumerSpec, Lanes, current_partition
from lc_common.events import BatchEventV1
from lc_common.events.registry import Topic
from lc_common.kafka import Publisher, ensure_topics
from lc_common.settings import ServiceSettings

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(90)]

TOPIC = Topic("lanes.test", BatchEventV1, "test", ("test",), partitions=3)


class Limits:
    def __init__(self, limits: dict[int, int]) -> None:
        self.limits = limits
        self.assignments: list[frozenset[int]] = []
        self.revocations: list[frozenset[int]] = []

    def limit(self, partition: int) -> int:
        return self.limits[partition]

    def assigned(self, partitions: frozenset[int]) -> None:
        self.assignments.append(partitions)

    def revoked(self, partitions: frozenset[int]) -> None:
        self.revocations.append(partitions)


async def test_each_partition_has_its_own_bound_and_a_stopped_lane_starves_nobody(
    service_env: dict[str, str],
) -> None:
    settings = ServiceSettings()
    await ensure_topics(settings, [TOPIC])
    publisher = Publisher(settings)
    await publisher.start()
    limits = Limits({0: 0, 1: 1, 2: 3})
    running: Counter[int] = Counter()
    peak: Counter[int] = Counter()
    handled: list[tuple[int, str]] = []
    wrong_partition: list[str] = []

    async def handle(event: BatchEventV1) -> None:
        partition = current_partition()
        if event.batch_id.split("-")[0] != str(partition):
            wrong_partition.append(event.batch_id)
        running[partition] += 1
        peak[partition] = max(peak[partition], running[partition])
        await asyncio.sleep(0.03)  # the work: a lane holds its slot meanwhile
        running[partition] -= 1
        handled.append((partition, event.batch_id))

    spec = ConsumerSpec(TOPIC, "lanes-test", handle, strategy=Lanes(limits, concurrency=10))
    runner = ConsumerRunner(settings, spec, publisher)
    task = asyncio.create_task(runner.run())
    try:
        for partition in range(3):
            for i in range(12):
                event = BatchEventV1(account_id="a", batch_id=f"{partition}-{i}", kind="queued")
                await publisher.producer.send_and_wait(
                    settings.topic(TOPIC.name), event.to_bytes(), partition=partition
                )
        async with asyncio.timeout(60):
            while sum(1 for p, _ in handled if p in (1, 2)) < 24:
                await asyncio.sleep(0.02)
        assert not any(p == 0 for p, _ in handled)  # stopped, and the others went on
        assert (peak[1], peak[2]) == (1, 3)
        limits.limits[0] = 2
        async with asyncio.timeout(60):
            while len(handled) < 36:
                await asyncio.sleep(0.02)
        assert peak[0] == 2
        assert sorted(b for p, b in handled if p == 0) == sorted(f"0-{i}" for i in range(12))
        assert wrong_partition == []
        assert limits.assignments[-1] == frozenset({0, 1, 2})
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await publisher.stop()
