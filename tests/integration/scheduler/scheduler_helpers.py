"""Helpers for the scheduler's integration tests: the service in-process, real peers."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI

from lc_common.events import Event, LeadAcceptedV1, ProbeRequestV1, Topic
from lc_common.kafka import Publisher
from lc_common.settings import ServiceSettings
from lc_scheduler.config import SchedulerSettings
from lc_scheduler.main import create_app


@asynccontextmanager
async def running(settings: SchedulerSettings) -> AsyncIterator[FastAPI]:
    """The scheduler app with its lifespan (consumers, dispatch loop) running."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app
        assert app.state.workers.alive, app.state.workers.failure


@asynccontextmanager
async def publisher(settings: ServiceSettings) -> AsyncIterator[Publisher]:
    pub = Publisher(settings)
    await pub.start()
    try:
        yield pub
    finally:
        await pub.stop()


class TopicReader:
    """Reads every message of some topics from the beginning, in the background."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=f"test-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            metadata_max_age_ms=1000,
        )
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _read(self) -> None:
        async for record in self._consumer:
            self.messages.append((record.topic, record.value or b""))

    def probes(self) -> list[tuple[str, ProbeRequestV1]]:
        return [
            (topic, ProbeRequestV1.model_validate_json(value))
            for topic, value in self.messages
            if ".probe.requests." in f".{topic}"
        ]


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], limit: float = 20.0, what: str = ""
) -> None:
    """Wait until `check` holds; fail after `limit` seconds."""
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {limit}s waiting for {what or check}")
        await asyncio.sleep(0.05)


def lead(batch: str, row: int, e164: str, account: str = "acc_test") -> LeadAcceptedV1:
    return LeadAcceptedV1(
        account_id=account, batch_id=batch, lead_id=f"{batch}:{row:09d}", e164=e164, region="AU"
    )


async def send(pub: Publisher, topic: Topic, events: list[tuple[str, Event]]) -> None:
    await pub.publish_many(topic, events)


def dump(obj: Any) -> str:
    return json.dumps(obj, default=str)
