"""A consumer runner that hands events to its handler in bulks.

For a topic whose events are applied in bulk anyway (the scheduler stores the
leads of `leads.accepted` a thousand at a time), the per-event machinery of
`ConsumerRunner` (a task, a retry loop and bound log context per event) costs
more than the work. This runner takes what one fetch returns (up to
`max_bulk`), decodes each event and runs `check` on it (it raises
`PoisonEvent` for an impossible event), then calls `bulk` once with every good
event, retrying it as a whole. The spec's own per-event handler is not used
here (contract tests and single events use it). Dead-lettering, commits (only
what is done), rebalances and shutdown are the base runner's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

from lc_common.consumer import ConsumerRunner, ConsumerSpec
from lc_common.errors import PoisonEvent
from lc_common.events.base import Event
from lc_common.kafka import Publisher
from lc_common.metrics import EVENTS_CONSUMED, HANDLE_SECONDS
from lc_common.settings import ServiceSettings

E = TypeVar("E", bound=Event)

log = structlog.get_logger(__name__)

BulkHandler = Callable[[Sequence[E]], Awaitable[None]]
Check = Callable[[E], Awaitable[None]]


class BulkConsumerRunner(ConsumerRunner[E]):
    """Runs a spec's topic with `check` per event and `bulk` per fetch."""

    def __init__(
        self,
        settings: ServiceSettings,
        spec: ConsumerSpec[E],
        publisher: Publisher,
        *,
        check: Check[E],
        bulk: BulkHandler[E],
        max_bulk: int = 2000,
        pipeline: int = 2,
    ) -> None:
        super().__init__(settings, spec, publisher)
        self._pipeline = pipeline
        self._check = check
        self._bulk = bulk
        self._max_bulk = max_bulk

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        # Up to `pipeline` bulks at once: the next is decoded and checked (and the
        # handler may prepare it) while the store writes the previous one.
        last_commit = time.monotonic()
        while True:
            if self._fatal is not None:
                raise self._fatal
            if len(self._tasks) >= self._pipeline:
                await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
                continue
            batches = await consumer.getmany(timeout_ms=200, max_records=self._max_bulk)
            self.assigned = bool(consumer.assignment())
            records = [(tp, r) for tp, rs in batches.items() for r in rs]
            if records:
                for tp, record in records:
                    self._tracker.start(tp, record.offset)
                task = asyncio.create_task(self._run_bulk(records))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if time.monotonic() - last_commit > 0.5:
                await self._commit(consumer)
                last_commit = time.monotonic()

    async def _run_bulk(
        self, records: list[tuple[TopicPartition, ConsumerRecord[Any, Any]]]
    ) -> None:
        try:
            await self._handle_bulk(records)
        except BaseException as exc:  # re-raised by the loop: the process restarts
            if self._fatal is None:
                self._fatal = exc
            if not isinstance(exc, asyncio.CancelledError):
                log.error("bulk_failed_permanently", topic=self.topic_name, error=repr(exc))

    async def _handle_bulk(
        self, records: list[tuple[TopicPartition, ConsumerRecord[Any, Any]]]
    ) -> None:
        topic, group = self._spec.topic.name, self._spec.group
        model = self._spec.topic.model
        started = time.perf_counter()
        good: list[E] = []
        for _, record in records:
            try:
                event: E = model.model_validate_json(record.value or b"")  # type: ignore[assignment]
                await self._check(event)
            except ValidationError as exc:
                await self._dead_letter(record, "undecodable", str(exc))
                EVENTS_CONSUMED.labels(topic, group, "dead_lettered").inc()
                continue
            except PoisonEvent as exc:
                await self._dead_letter(record, "poison", str(exc))
                EVENTS_CONSUMED.labels(topic, group, "dead_lettered").inc()
                continue
            good.append(event)
        if good:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._spec.max_attempts),
                wait=wait_exponential(multiplier=0.2, max=self._spec.max_backoff_seconds),
                before_sleep=self._log_retry,
                reraise=True,
            ):
                with attempt:
                    await self._bulk(good)
        for tp, record in records:
            self._tracker.finish(tp, record.offset)
        EVENTS_CONSUMED.labels(topic, group, "ok").inc(len(good))
        HANDLE_SECONDS.labels(topic).observe(time.perf_counter() - started)
