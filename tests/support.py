"""Helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
import structlog.testing
import uvicorn
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from fastapi import FastAPI
from prometheus_client import REGISTRY

from lc_common.events import Event, Topic
from lc_common.kafka import Publisher, kafka_client_options
from lc_common.settings import ServiceSettings

DEAD_LETTERED = "lc_events_dead_lettered_total"


@asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[str]:
    """Serve an app with uvicorn in this event loop, lifespan included; yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped before it started")
            await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


UNDECODABLE = b"\x00\xffnot json"


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def until(
    check: Callable[[], bool | Awaitable[bool]],
    within: float = 30.0,
    what: str = "the condition",
    poll: float = 0.02,
) -> None:
    """Wait until `check` holds (polled every `poll` s); AssertionError naming `what`
    after `within` seconds. The one waiting helper of every test."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(poll)


async def read_dead_letters(
    settings: ServiceSettings, topic: Topic, count: int, within: float = 60.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first `count` messages of the topic's dead-letter twin (from the start)."""
    consumer = AIOKafkaConsumer(
        settings.topic(topic.dlq),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"dlq-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    found: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(within):
            while len(found) < count:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    found.extend(records)
    finally:
        await consumer.stop()
    return found


async def poison_is_parked_and_the_next_event_handled(
    settings: ServiceSettings,
    publisher: Publisher,
    topic: Topic,
    *,
    impossible: dict[str, Any],
    good: Event,
    handled: Callable[[], bool | Awaitable[bool]],
    within: float = 90.0,
    impossible_reason: str = "poison",
) -> None:
    """Send garbage, a well-formed but impossible event and a good one to a running consumer.

    Both bad ones must be parked on `<topic>.dlq` with their reasons, counted
    (`lc_events_dead_lettered_total`) and logged (`event_dead_lettered`); the good
    one must then be handled (`handled()` holds). The service runs in this process.
    `impossible_reason` is `undecodable` where the event's contract already refuses
    the impossible event, before any handler sees it.
    """
    name = topic.name
    expected = sorted(["undecodable", impossible_reason])
    before = {r: _metric(DEAD_LETTERED, topic=name, reason=r) for r in set(expected)}
    with structlog.testing.capture_logs() as logs:
        full = settings.topic(name)
        await publisher.producer.send_and_wait(full, UNDECODABLE, key=b"garbage")
        await publisher.producer.send_and_wait(
            full, json.dumps(impossible).encode(), key=b"impossible"
        )
        await publisher.publish(topic, good, key=getattr(good, topic.key))
        parked = await read_dead_letters(settings, topic, 2, within)
        await until(handled, within, f"the good event after the poison on {name}")
    reasons = sorted((dict(r.headers)["lc-dlq-reason"], r.value) for r in parked)
    assert reasons == sorted(
        [
            (b"undecodable", UNDECODABLE),
            (impossible_reason.encode(), json.dumps(impossible).encode()),
        ]
    )
    for reason, count in before.items():
        assert _metric(DEAD_LETTERED, topic=name, reason=reason) - count == expected.count(reason)
    logged = [e for e in logs if e.get("event") == "event_dead_lettered" and e["dlq"] == topic.dlq]
    assert sorted(e["reason"] for e in logged) == expected


async def commit_as(settings: ServiceSettings, group: str, topic: str, offset: int) -> None:
    """What the legacy group's consumers left behind: `offset` committed on partition 0."""
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        **kafka_client_options(settings),
        group_id=settings.topic(group),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:

        async def assigned() -> bool:
            await consumer.getmany(timeout_ms=200)
            return bool(consumer.assignment())

        await until(assigned, within=30, what="the legacy group's assignment")
        tp = TopicPartition(settings.topic(topic), 0)
        await consumer.commit({tp: OffsetAndMetadata(offset, "")})
    finally:
        await consumer.stop()
