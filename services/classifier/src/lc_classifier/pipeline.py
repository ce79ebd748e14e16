"""The error policy around the handler: decode, re-key, dead-letter, turn decisions into messages.

Faust acknowledges an event whose handler raised and restarts the agent, so
nothing here may raise: a message that does not parse, or that the handler
cannot process, becomes one message for `probe.signalling.dlq` (the raw bytes,
with the reason in the consumer runner's headers, `dead_letter_headers`), logged
and counted, and the stream moves on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from pydantic import ValidationError

from lc_classifier import metrics
from lc_classifier.handlers import SignallingHandler
from lc_common.consumer import dead_letter_headers
from lc_common.events import LEAD_VERDICTS, PROBE_RETRIES, PROBE_SIGNALLING, ProbeSignallingV1
from lc_common.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED

log = structlog.get_logger(__name__)

_PROCESSING = metrics.PROCESSING_SECONDS


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Outgoing:
    """A message to publish: logical topic name, key, raw value, headers, maybe a partition."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    partition: int | None = None


@dataclass(frozen=True)
class Processed:
    """The messages to publish for one consumed message, and what to do once they are sent."""

    messages: list[Outgoing]
    commit: Callable[[], None] = _nothing


class SignallingPipeline:
    """Raw `probe.signalling` message in, messages to publish out; never raises.

    With a `changelog` topic, each new history is also a message for it (keyed
    like the table, on the source partition), sent with the verdicts before the
    history is remembered: the table's durable copy without Faust's per-write
    buffer and futures.
    """

    def __init__(
        self,
        handler: SignallingHandler,
        group: str,
        changelog: str | None = None,
        source_topic: str = PROBE_SIGNALLING.name,
    ):
        self.handler = handler
        self.group = group
        self.changelog = changelog
        # As the broker names it (with any prefix), like the consumer runner's headers.
        self.source_topic = source_topic
        self._consumed = {
            outcome: EVENTS_CONSUMED.labels(PROBE_SIGNALLING.name, group, outcome)
            for outcome in ("ok", "rekeyed", "dead_lettered")
        }

    def process(
        self,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int = -1,
        offset: int = -1,
    ) -> Processed:
        """Everything to publish for one consumed message (possibly nothing).

        Call `commit()` on the result once its messages are handed to the producer.
        """
        started = time.perf_counter()
        try:
            return self._process(key, value, partition, offset)
        except Exception as exc:  # the last line of defence: never crash the agent
            log.exception(
                "classifier_internal_error",
                topic=PROBE_SIGNALLING.name,
                partition=partition,
                offset=offset,
            )
            return Processed(
                [self._dead_letter(key, value, "poison", repr(exc), partition, offset)]
            )
        finally:
            _PROCESSING.observe(time.perf_counter() - started)

    def _process(
        self, key: bytes | None, value: bytes | None, partition: int, offset: int
    ) -> Processed:
        try:
            event = ProbeSignallingV1.model_validate_json(value or b"")
        except ValidationError as exc:
            dead = self._dead_letter(key, value, "undecodable", str(exc), partition, offset)
            return Processed([dead])
        lead_key = event.lead_id.encode()
        if key != lead_key:
            # Tables are partitioned like the topic: a lead's events must share
            # its key, so an event keyed otherwise goes round once more.
            metrics.REKEYED.inc()
            log.warning(
                "signalling_rekeyed",
                key=key.decode("utf-8", "replace") if key else None,
                **context(event, partition, offset),
            )
            self._consumed["rekeyed"].inc()
            return Processed([Outgoing(PROBE_SIGNALLING.name, lead_key, value)])
        try:
            decision = self.handler.handle(event, partition)
        except Exception as exc:
            log.exception("signalling_poison", **context(event, partition, offset))
            dead = self._dead_letter(key, value, "poison", repr(exc), partition, offset, event)
            return Processed([dead])
        self._consumed["ok"].inc()
        out: list[Outgoing] = []
        if decision.verdict is not None:
            out.append(Outgoing(LEAD_VERDICTS.name, lead_key, decision.verdict.to_bytes()))
            _observe_age(event.occurred_at, self.handler.clock.now())
        if decision.retry is not None:
            out.append(Outgoing(PROBE_RETRIES.name, lead_key, decision.retry.to_bytes()))
        if decision.ignored is not None:
            return Processed(out)
        stored = self.handler.encode(decision)
        if self.changelog is not None:
            out.append(
                Outgoing(self.changelog, table_key(event.lead_id), stored, partition=partition)
            )
        handler = self.handler

        def commit() -> None:
            handler.remember(event, decision, stored)

        return Processed(out, commit)

    def _dead_letter(
        self,
        key: bytes | None,
        value: bytes | None,
        reason: str,
        detail: str,
        partition: int,
        offset: int,
        event: ProbeSignallingV1 | None = None,
    ) -> Outgoing:
        metrics.DEAD_LETTERED.labels(reason).inc()
        EVENTS_DEAD_LETTERED.labels(PROBE_SIGNALLING.name, reason).inc()
        self._consumed["dead_lettered"].inc()
        fields = (
            context(event, partition, offset)
            if event is not None
            else {"topic": PROBE_SIGNALLING.name, "partition": partition, "offset": offset}
        )
        log.error(
            "event_dead_lettered",
            reason=reason,
            detail=detail[:500],
            dlq=PROBE_SIGNALLING.dlq,
            **fields,
        )
        headers = dead_letter_headers(
            reason, detail, self.source_topic, partition, offset, self.group
        )
        return Outgoing(PROBE_SIGNALLING.dlq, key, value, headers)


def table_key(lead_id: str) -> bytes:
    """A lead id as the history table's changelog keys it (Faust's JSON key serializer)."""
    return json.dumps(lead_id).encode()


def context(event: ProbeSignallingV1, partition: int, offset: int) -> dict[str, object]:
    """The ids a log line about this event carries.

    Passed to the few log calls that need them rather than bound per event:
    binding context variables cost more than deciding the verdict.
    """
    return {
        "topic": PROBE_SIGNALLING.name,
        "partition": partition,
        "offset": offset,
        "event_id": str(event.event_id),
        "lead_id": event.lead_id,
        "batch_id": event.batch_id,
        "probe_id": event.probe_id,
        "trunk": event.trunk,
        "attempt": event.attempt,
    }


def _observe_age(occurred_at: datetime, now: datetime) -> None:
    age = (now - occurred_at).total_seconds()
    if age >= 0:
        metrics.SIGNALLING_AGE_SECONDS.observe(age)
