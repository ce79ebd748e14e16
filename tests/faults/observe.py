"""What a fault run watches while it runs: topics (a tap) and counters (a poller).

Both run as background tasks in the test's event loop for the whole run, so they
see what a broker loss later erases, and every intermediate counter value.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer


@dataclass
class Tap:
    """Reads topics from their start with its own consumer group; keeps each record's
    JSON value by event id (a replayed copy of an event is the same event)."""

    bootstrap: str
    topics: list[str]
    events: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:  # the broker may be lost and come back empty: start over
            consumer = AIOKafkaConsumer(
                *self.topics,
                bootstrap_servers=self.bootstrap,
                group_id=f"fault-tap-{uuid.uuid4().hex[:8]}",
                auto_offset_reset="earliest",
                enable_auto_commit=False,
                metadata_max_age_ms=1000,
            )
            try:
                await consumer.start()
                while True:
                    batches = await consumer.getmany(timeout_ms=300)
                    for tp, records in batches.items():
                        kept = self.events.setdefault(tp.topic, {})
                        for record in records:
                            with contextlib.suppress(ValueError, TypeError):
                                value = json.loads(record.value or b"")
                                if isinstance(value, dict) and "event_id" in value:
                                    kept[str(value["event_id"])] = value
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def restart(self) -> None:
        """Start over from the topics' start with a fresh group, keeping what was seen:
        after a broker restarted empty, the old positions are past the new ends."""
        await self.stop()
        self.start()

    def of(self, topic: str, *needed: str) -> list[dict[str, Any]]:
        """The events seen on a topic that carry every `needed` field (poison does not)."""
        return [e for e in self.events.get(topic, {}).values() if all(k in e for k in needed)]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@dataclass
class Poller:
    """Polls every batch of the account and its balance every `interval` seconds
    through the gateway; unreachable answers are counted, not judged."""

    api: httpx.AsyncClient
    interval: float = 0.2
    samples: list[dict[str, Any]] = field(default_factory=list)
    balances: list[int] = field(default_factory=list)
    unavailable: int = 0
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                batches = await self.api.get("/api/v1/batches", timeout=5)
                balance = await self.api.get("/api/v1/billing/balance", timeout=5)
                if batches.status_code == 200:
                    listed = batches.json()
                    items = listed["batches"] if isinstance(listed, dict) else listed
                    at = round(time.monotonic(), 2)
                    self.samples.extend({**b, "polled_at": at} for b in items)
                else:
                    self.unavailable += 1
                if balance.status_code == 200:
                    self.balances.append(int(balance.json()["balance"]))
            except (httpx.HTTPError, ValueError, KeyError):
                self.unavailable += 1
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
