"""The fate of a record: decode it, handle it with retries, or park it on the dead-letter topic.

The one record path of every strategy:

- a message that does not parse as the topic's model is parked on the dead-letter
  topic (logged and counted), never retried;
- a handler (or a bulk's per-event check) that raises `PoisonEvent` gets the same
  treatment;
- any other error is retried with backoff (not at all when the spec is at most
  once) and, once the attempts are spent, raised to the runner.

`dead_letter_headers` is the one shape of a parked message's headers; the
classifier, which is not run by this runner, parks its messages with it too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import structlog
from aiokafka import ConsumerRecord, TopicPartition
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from lc_common.consuming.spec import PARTITION, ConsumerSpec
from lc_common.consuming.strategies import Bulk
from lc_common.errors import PoisonEvent
from lc_common.events.base import Event
from lc_common.kafka import Publisher
from lc_common.metrics import (
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
    HANDLE_SECONDS,
    HANDLER_RETRIES,
    IN_FLIGHT,
)
from lc_common.settings import ServiceSettings

E = TypeVar("E", bound=Event)
log = structlog.get_logger(__name__)

_FIRST_BACKOFF = 0.2
"""Seconds before a failed event is tried again the first time (then doubled)."""
_BOUND_IDS = ("batch_id", "lead_id", "account_id", "trunk", "probe_id", "attempt")


def dead_letter_headers(
    reason: str, detail: str, topic: str, partition: int, offset: int, group: str
) -> list[tuple[str, bytes]]:
    """The headers of a message parked on a dead-letter topic: why, and where it came from.

    `topic` is the source topic's name as the broker knows it (with any prefix).
    Readers of parked messages (tests/support.py, the services' DLQ tests) key on these
    names; the fault checker only counts the records of each `.dlq` topic.
    """
    return [
        ("lc-dlq-reason", reason.encode()),
        ("lc-dlq-detail", detail[:2000].encode()),
        ("lc-source-topic", topic.encode()),
        ("lc-source-partition", str(partition).encode()),
        ("lc-source-offset", str(offset).encode()),
        ("lc-consumer-group", group.encode()),
    ]


class RecordProcessor(Generic[E]):
    """Decodes, handles (with retries) or dead-letters the records of one spec's topic."""

    def __init__(self, settings: ServiceSettings, spec: ConsumerSpec[E], publisher: Publisher):
        self._settings = settings
        self._spec = spec
        self._publisher = publisher

    async def handle(self, tp: TopicPartition, record: ConsumerRecord[Any, Any]) -> None:
        """Process one record in its own task: timed, counted in flight, its ids bound.

        Raises as `process` does.
        """
        topic = self._spec.topic.name
        IN_FLIGHT.labels(topic).inc()
        started = time.perf_counter()
        PARTITION.set(tp.partition)
        # Each event runs in its own task, whose context is a copy: what is bound here
        # ends with the task, so there is nothing to unbind (cheaper than bound_contextvars).
        structlog.contextvars.bind_contextvars(
            topic=topic, partition=tp.partition, offset=record.offset
        )
        try:
            await self.process(record)
        finally:
            HANDLE_SECONDS.labels(topic).observe(time.perf_counter() - started)
            IN_FLIGHT.labels(topic).dec()

    async def process(self, record: ConsumerRecord[Any, Any]) -> None:
        """Handle the record's event; return once it is handled or parked.

        Raises what the handler kept raising once its attempts are spent, or what the
        dead-letter publish raised.
        """
        topic, group = self._spec.topic.name, self._spec.group
        event = await self._decode(record)
        if event is None:
            return
        ids = {k: getattr(event, k) for k in _BOUND_IDS if hasattr(event, k)}
        structlog.contextvars.bind_contextvars(event_id=str(event.event_id), **ids)
        attempts = 1 if self._spec.at_most_once else self._spec.max_attempts
        try:
            await self._with_retries(lambda: self._spec.handler(event), attempts)
        except PoisonEvent as exc:
            await self._park(record, "poison", str(exc))
            return
        EVENTS_CONSUMED.labels(topic, group, "ok").inc()

    async def process_bulk(
        self, bulk: Bulk[E], records: Sequence[ConsumerRecord[Any, Any]]
    ) -> None:
        """Decode and check each record (parking the bad ones), then hand the good events
        to the bulk's handler in one call, retried as a whole.

        Raises what the handler kept raising once its attempts are spent (a
        `PoisonEvent` from the bulk handler included: it names no one event), or what a
        dead-letter publish raised.
        """
        topic, group = self._spec.topic.name, self._spec.group
        started = time.perf_counter()
        good: list[E] = []
        for record in records:
            event = await self._decode(record, bulk.check)
            if event is not None:
                good.append(event)
        if good:
            await self._with_retries(lambda: bulk.handler(good), self._spec.max_attempts, None)
        EVENTS_CONSUMED.labels(topic, group, "ok").inc(len(good))
        HANDLE_SECONDS.labels(topic).observe(time.perf_counter() - started)

    async def _decode(
        self,
        record: ConsumerRecord[Any, Any],
        check: Callable[[E], Awaitable[None]] | None = None,
    ) -> E | None:
        """The record's event, or None once it is parked (undecodable, or poison to `check`)."""
        try:
            event = self._spec.decode(record.value)
            if check is not None:
                await check(event)
        except ValidationError as exc:
            await self._park(record, "undecodable", str(exc))
            return None
        except PoisonEvent as exc:
            await self._park(record, "poison", str(exc))
            return None
        return event

    async def _with_retries(
        self,
        work: Callable[[], Awaitable[None]],
        attempts: int,
        never_retry: type[BaseException] | None = PoisonEvent,
    ) -> None:
        """Run `work`, retrying with backoff until `attempts` are spent; then raise.

        The first attempt runs bare and tenacity is set up only after it failed: nearly
        every event succeeds at once, and setting tenacity up cost the prober about a
        sixth of its CPU per request. The back-offs are tenacity's all the same
        (0.2 s, 0.4 s, 0.8 s ... up to the spec's maximum).
        """
        try:
            await work()
            return
        except Exception as exc:
            if attempts <= 1 or (never_retry is not None and isinstance(exc, never_retry)):
                raise
            self._count_retry(1, exc)
        await asyncio.sleep(min(_FIRST_BACKOFF, self._spec.max_backoff_seconds))
        retry = (
            retry_if_not_exception_type(never_retry)
            if never_retry is not None
            else retry_if_exception_type()
        )
        # Counted from the second attempt: doubling the multiplier keeps the back-offs
        # those of one loop over all the attempts.
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(attempts - 1),
            wait=wait_exponential(
                multiplier=2 * _FIRST_BACKOFF, max=self._spec.max_backoff_seconds
            ),
            retry=retry,
            before_sleep=self.log_retry,
            reraise=True,
        ):
            with attempt:
                await work()

    async def _park(self, record: ConsumerRecord[Any, Any], reason: str, detail: str) -> None:
        await self.dead_letter(record, reason, detail)
        EVENTS_CONSUMED.labels(self._spec.topic.name, self._spec.group, "dead_lettered").inc()

    def log_retry(self, state: Any) -> None:
        """Count and log a failed attempt that will be retried (tenacity's `before_sleep`,
        whose attempts start at the second)."""
        outcome = state.outcome
        self._count_retry(state.attempt_number + 1, outcome.exception() if outcome else None)

    def _count_retry(self, attempt: int, error: BaseException | None) -> None:
        HANDLER_RETRIES.labels(self._spec.topic.name).inc()
        log.warning("handler_retry", attempt=attempt, error=repr(error) if error else None)

    async def dead_letter(self, record: ConsumerRecord[Any, Any], reason: str, detail: str) -> None:
        """Park the record, as it came, on the topic's dead-letter topic, logged and counted."""
        topic = self._spec.topic
        headers = dead_letter_headers(
            reason, detail, record.topic, record.partition, record.offset, self._spec.group
        )
        await self._publisher.producer.send_and_wait(
            self._settings.topic(topic.dlq), record.value, key=record.key, headers=headers
        )
        EVENTS_DEAD_LETTERED.labels(topic.name, reason).inc()
        log.error("event_dead_lettered", reason=reason, detail=detail[:500], dlq=topic.dlq)
