"""A trunk's requests go to its lanes in turn (in proportion to their CPS), not by the hash
of their key: on the real broker, every partition of the request topic gets its share."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from scheduler_helpers import lead, publisher, running
from tests.support import until

from lc_common.events import LEADS_ACCEPTED

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


async def test_requests_are_spread_over_the_lanes_in_turn(scheduler_settings: Any) -> None:
    # beta: 3 channels, 10 cps: 3 lanes of 4, 3 and 3 starts; bound 2 x 3 = 6 outstanding.
    settings = scheduler_settings()
    leads = [lead("bat_l", i, f"+614{i:08d}") for i in range(6)]
    partitions: Counter[int] = Counter()
    reader = AIOKafkaConsumer(
        settings.topic("probe.requests.beta"),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
    )

    async def read() -> None:
        async for record in reader:
            partitions[record.partition] += 1

    async with running(settings), publisher(settings) as pub:
        await reader.start()
        task = asyncio.create_task(read())
        try:
            await pub.publish_many(LEADS_ACCEPTED, [(e.lead_id, e) for e in leads])
            await until(lambda: sum(partitions.values()) == 6, 60, "six requests out")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await reader.stop()
    assert partitions == {0: 2, 1: 2, 2: 2}
