"""The error policy around the handler: decode, re-key, dead-letter, turn decisions into messages.

Faust acknowledges an event whose handler raised and restarts the agent, so
nothing here may raise: a message that does not parse, or that the handler
cannot process, becomes one message for `probe.signalling.dlq` (the raw bytes,
with the reason in headers), logged and counted, and the stream moves on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from pydantic import ValidationError

from lc_classifier import metrics
from lc_classifier.handlers import SignallingHandler
from lc_common.events import LEAD_VERDICTS, PROBE_RETRIES, PROBE_SIGNALLING, ProbeSignallingV1
from lc_common.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED

log = structlog.get_logger(__name__)

_PROCESSING = metrics.PROCESSING_SECONDS


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Outgoing:
    """A message to publish: logical topic name, key, raw value and headers."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass(frozen=True)
class Processed:
    """The messages to publish for one consumed message, and what to do once they are sent."""

    messages: list[Outgoing]
    commit: Callable[[], None] = _nothing


class SignallingPipeline:
    """Raw `probe.signalling` message in, messages to publish out; never raises."""

    def __init__(self, handler: SignallingHandler, group: str) -> None:
        self.handler = handler
        self.group = group
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
            with structlog.contextvars.bound_contextvars(
                topic=PROBE_SIGNALLING.name, partition=partition, offset=offset
            ):
                log.exception("classifier_internal_error")
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
            with structlog.contextvars.bound_contextvars(
                topic=PROBE_SIGNALLING.name, partition=partition, offset=offset
            ):
                dead = self._dead_letter(key, value, "undecodable", str(exc), partition, offset)
            return Processed([dead])
        with structlog.contextvars.bound_contextvars(
            topic=PROBE_SIGNALLING.name,
            partition=partition,
            offset=offset,
            event_id=str(event.event_id),
            lead_id=event.lead_id,
            batch_id=event.batch_id,
            probe_id=event.probe_id,
            trunk=event.trunk,
            attempt=event.attempt,
        ):
            return self._handle(event, key, value, partition, offset)

    def _handle(
        self,
        event: ProbeSignallingV1,
        key: bytes | None,
        value: bytes | None,
        partition: int,
        offset: int,
    ) -> Processed:
        lead_key = event.lead_id.encode()
        if key != lead_key:
            # Tables are partitioned like the topic: a lead's events must share
            # its key, so an event keyed otherwise goes round once more.
            metrics.REKEYED.inc()
            log.warning("signalling_rekeyed", key=key.decode("utf-8", "replace") if key else None)
            self._consumed["rekeyed"].inc()
            return Processed([Outgoing(PROBE_SIGNALLING.name, lead_key, value)])
        try:
            decision = self.handler.handle(event)
        except Exception as exc:
            log.exception("signalling_poison")
            dead = self._dead_letter(key, value, "poison", repr(exc), partition, offset)
            return Processed([dead])
        self._consumed["ok"].inc()
        out: list[Outgoing] = []
        if decision.verdict is not None:
            out.append(Outgoing(LEAD_VERDICTS.name, lead_key, decision.verdict.to_bytes()))
            _observe_age(event.occurred_at, self.handler.clock.now())
        if decision.retry is not None:
            out.append(Outgoing(PROBE_RETRIES.name, lead_key, decision.retry.to_bytes()))
        handler = self.handler

        def commit() -> None:
            handler.remember(event, decision)

        return Processed(out, commit)

    def _dead_letter(
        self,
        key: bytes | None,
        value: bytes | None,
        reason: str,
        detail: str,
        partition: int,
        offset: int,
    ) -> Outgoing:
        metrics.DEAD_LETTERED.labels(reason).inc()
        EVENTS_DEAD_LETTERED.labels(PROBE_SIGNALLING.name, reason).inc()
        self._consumed["dead_lettered"].inc()
        log.error(
            "event_dead_lettered", reason=reason, detail=detail[:500], dlq=PROBE_SIGNALLING.dlq
        )
        headers = [
            ("lc-dlq-reason", reason.encode()),
            ("lc-dlq-detail", detail[:2000].encode()),
            ("lc-source-topic", PROBE_SIGNALLING.name.encode()),
            ("lc-source-partition", str(partition).encode()),
            ("lc-source-offset", str(offset).encode()),
            ("lc-consumer-group", self.group.encode()),
        ]
        return Outgoing(PROBE_SIGNALLING.dlq, key, value, headers)


def _observe_age(occurred_at: datetime, now: datetime) -> None:
    age = (now - occurred_at).total_seconds()
    if age >= 0:
        metrics.SIGNALLING_AGE_SECONDS.observe(age)
