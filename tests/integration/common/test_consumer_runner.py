"""The consumer runner against the real broker: handling, poison parking, transient retries."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiokafka import AIOKafkaConsumer

from lc_common.consumer import ConsumerRunner, ConsumerSpec
from lc_common.errors import PoisonEvent
from lc_common.events import BATCH_EVENTS, BatchEventV1
from lc_common.kafka import Publisher, ensure_topics
from lc_common.settings import ServiceSettings

pytestmark = pytest.mark.kafka


async def read_dlq(settings: ServiceSettings, count: int) -> list[tuple[bytes, dict[str, bytes]]]:
    consumer = AIOKafkaConsumer(
        settings.topic(BATCH_EVENTS.dlq),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=settings.topic("dlq-reader"),
    )
    await consumer.start()
    found: list[tuple[bytes, dict[str, bytes]]] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    found += [(r.value, dict(r.headers)) for r in records]
    finally:
        await consumer.stop()
    return found


async def test_poison_and_undecodable_events_are_parked_and_the_rest_handled(
    service_env: dict[str, str],
) -> None:
    settings = ServiceSettings()
    await ensure_topics(settings, [BATCH_EVENTS])
    publisher = Publisher(settings)
    await publisher.start()
    handled: list[str] = []
    failures = {"flaky": 2}
    done = asyncio.Event()

    async def handle(event: BatchEventV1) -> None:
        if event.batch_id == "poison":
            raise PoisonEvent("impossible batch")
        if failures.get(event.batch_id, 0) > 0:
            failures[event.batch_id] -= 1
            raise ConnectionError("store hiccup")
        handled.append(event.batch_id)
        if len(handled) == 3:
            done.set()

    runner = ConsumerRunner(settings, ConsumerSpec(BATCH_EVENTS, "runner-test", handle), publisher)
    task = asyncio.create_task(runner.run())
    try:
        for batch_id in ("a", "poison", "flaky"):
            event = BatchEventV1(account_id="acc", batch_id=batch_id, kind="queued")
            await publisher.publish(BATCH_EVENTS, event, key="same")
        await publisher.producer.send_and_wait(
            settings.topic(BATCH_EVENTS.name), b"{not json", key=b"same"
        )
        await publisher.publish(
            BATCH_EVENTS, BatchEventV1(account_id="acc", batch_id="z", kind="queued"), key="same"
        )
        async with asyncio.timeout(60):
            await done.wait()
        assert handled == ["a", "flaky", "z"]
        parked = await read_dlq(settings, 2)
        reasons = sorted(headers["lc-dlq-reason"] for _, headers in parked)
        assert reasons == [b"poison", b"undecodable"]
        assert any(value == b"{not json" for value, _ in parked)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await publisher.stop()
