"""Helpers for billing's integration tests: serve an app, read a topic, make verdicts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import uvicorn
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI

from lc_common.events import Evidence, LeadVerdictV1
from lc_common.settings import ServiceSettings


@asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[str]:
    """Serve an app with uvicorn in this event loop, lifespan included."""
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


async def read_topic(
    settings: ServiceSettings,
    topic: str,
    until: Callable[[list[bytes]], bool],
    within: float = 30.0,
) -> list[bytes]:
    """Values on a topic (from the start) once `until` holds for them; TimeoutError otherwise."""
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(within):
            while not until(values):
                batches = await consumer.getmany(timeout_ms=200)
                values.extend(r.value or b"" for rs in batches.values() for r in rs)
    finally:
        await consumer.stop()
    return values


def verdict(
    account_id: str, batch_id: str, row: int, *, final: bool = True, attempt: int = 1
) -> LeadVerdictV1:
    lead_id = f"{batch_id}:{row:09d}"
    return LeadVerdictV1(
        account_id=account_id,
        batch_id=batch_id,
        lead_id=lead_id,
        probe_id=f"prb_{row}_{attempt}",
        attempt=attempt,
        status="connected" if final else "indeterminate",
        final=final,
        detail="SIP 180 Ringing",
        confidence=90,
        evidence=Evidence(trunk="t1", codes=[180], tested_at=datetime.now(UTC)),
    )
