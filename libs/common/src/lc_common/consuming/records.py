"""The fate of one record: decode it, handle it with retries, or park it on the dead-letter topic.

- a message that does not parse as the topic's model is parked on the dead-letter
  topic (logged and counted), never retried;
- a handler that raises `PoisonEvent` gets the same treatment;
- any other error is retried with backoff (not at all with `commit_before_handle`)
  and, once the attempts are spent, raised to the runner.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import structlog
from aiokafka import ConsumerRecord
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from lc_common.consuming.spec import ConsumerSpec
from lc_common.errors import PoisonEvent
from lc_common.events.base import Event
from lc_common.kafka import Publisher
from lc_common.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, HANDLER_RETRIES
from lc_common.settings import ServiceSettings

E = TypeVar("E", bound=Event)
log = structlog.get_logger(__name__)

_BOUND_IDS = ("batch_id", "lead_id", "account_id", "trunk", "probe_id", "attempt")


def dead_letter_headers(
    reason: str, detail: str, topic: str, partition: int, offset: int, group: str
) -> list[tuple[str, bytes]]:
    """The headers of a message parked on a dead-letter topic: why, and where it came from.

    `topic` is the source topic's name as the broker knows it (with any prefix).
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

    async def process(self, record: ConsumerRecord[Any, Any]) -> None:
        """Handle the record's event; return once it is handled or parked.

        Raises what the handler kept raising once its attempts are spent, or what the
        dead-letter publish raised.
        """
        topic, group = self._spec.topic.name, self._spec.group
        try:
            event = self._spec.decode(record.value)
        except ValidationError as exc:
            await self.dead_letter(record, "undecodable", str(exc))
            EVENTS_CONSUMED.labels(topic, group, "dead_lettered").inc()
            return
        ids = {k: getattr(event, k) for k in _BOUND_IDS if hasattr(event, k)}
        structlog.contextvars.bind_contextvars(event_id=str(event.event_id), **ids)
        attempts = 1 if self._spec.commit_before_handle else self._spec.max_attempts
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(attempts),
                wait=wait_exponential(multiplier=0.2, max=self._spec.max_backoff_seconds),
                retry=retry_if_not_exception_type(PoisonEvent),
                before_sleep=self.log_retry,
                reraise=True,
            ):
                with attempt:
                    await self._spec.handler(event)
        except PoisonEvent as exc:
            await self.dead_letter(record, "poison", str(exc))
            EVENTS_CONSUMED.labels(topic, group, "dead_lettered").inc()
            return
        EVENTS_CONSUMED.labels(topic, group, "ok").inc()

    def log_retry(self, state: Any) -> None:
        """Count and log a failed attempt that will be retried (tenacity's `before_sleep`)."""
        HANDLER_RETRIES.labels(self._spec.topic.name).inc()
        outcome = state.outcome
        log.warning(
            "handler_retry",
            attempt=state.attempt_number,
            error=repr(outcome.exception()) if outcome else None,
        )

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
