"""The error policy around the handler: decode, re-key, dead-letter, turn decisions into messages.

Faust acknowledges an event whose handler raised and restarts the agent, so
nothing here may raise: a message that does not parse, or that the handler
cannot process, becomes one message for `probe.signalling.dlq` (the raw bytes,
with the reason in the consumer runner's headers, `dead_letter_headers`), logged
and counted, and the stream moves on.

The service feeds it a batch at a time (`process_batch`): every message of the
batch in order into one list, each new history remembered as soon as it is
decided (a later event of the same lead in the batch must see it). The batch is
acknowledged only after all its messages are handed to the producer, and Faust
flushes the producer before it commits offsets: a crash before that redelivers
the whole batch, whose histories were in memory only (the table is recovered
from its changelog), so each event is decided again, never lost as a duplicate.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import structlog
from pydantic import ValidationError

from lc_classifier import metrics
from lc_classifier.domain import Decision
from lc_classifier.handlers import SignallingHandler
from lc_common.consumer import dead_letter_headers
from lc_common.events import LEAD_VERDICTS, PROBE_RETRIES, PROBE_SIGNALLING, ProbeSignallingV1
from lc_common.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED

log = structlog.get_logger(__name__)

_PROCESSING = metrics.PROCESSING_SECONDS


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to publish: logical topic name, key, raw value, headers, maybe a partition."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None = None
    partition: int | None = None


Record = tuple[bytes | None, bytes | None, int, int]
"""A consumed message: key, value, partition, offset."""
_Pending = tuple[ProbeSignallingV1, Decision, bytes]


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
        out: list[Outgoing] = []
        pending = self._guarded(key, value, partition, offset, out)
        _PROCESSING.observe(time.perf_counter() - started)
        if pending is None:
            return Processed(out)
        handler = self.handler

        def commit() -> None:
            handler.remember(*pending)

        return Processed(out, commit)

    def process_batch(self, records: Iterable[Record], out: list[Outgoing]) -> int:
        """Append to `out` everything to publish for a batch of consumed messages, in order.

        Each new history is remembered at once (see the module's docstring); publish
        `out` before the batch is acknowledged. Returns the number of messages read.
        """
        started = time.perf_counter()
        remember = self.handler.remember
        count = 0
        for key, value, partition, offset in records:
            count += 1
            pending = self._guarded(key, value, partition, offset, out)
            if pending is not None:
                remember(*pending)
        if count:
            # One observation per batch, of the mean cost per event.
            _PROCESSING.observe((time.perf_counter() - started) / count)
        return count

    def _guarded(
        self,
        key: bytes | None,
        value: bytes | None,
        partition: int,
        offset: int,
        out: list[Outgoing],
    ) -> _Pending | None:
        mark = len(out)
        try:
            return self._process(key, value, partition, offset, out)
        except Exception as exc:  # the last line of defence: never crash the agent
            log.exception(
                "classifier_internal_error",
                topic=PROBE_SIGNALLING.name,
                partition=partition,
                offset=offset,
            )
            del out[mark:]
            out.append(self._dead_letter(key, value, "poison", repr(exc), partition, offset))
            return None

    def _process(
        self,
        key: bytes | None,
        value: bytes | None,
        partition: int,
        offset: int,
        out: list[Outgoing],
    ) -> _Pending | None:
        try:
            event = ProbeSignallingV1.model_validate_json(value or b"")
        except ValidationError as exc:
            out.append(self._dead_letter(key, value, "undecodable", str(exc), partition, offset))
            return None
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
            out.append(Outgoing(PROBE_SIGNALLING.name, lead_key, value))
            return None
        try:
            decision = self.handler.handle(event, partition)
        except Exception as exc:
            log.exception("signalling_poison", **context(event, partition, offset))
            out.append(self._dead_letter(key, value, "poison", repr(exc), partition, offset, event))
            return None
        self._consumed["ok"].inc()
        if decision.verdict is not None:
            out.append(Outgoing(LEAD_VERDICTS.name, lead_key, decision.verdict.to_bytes()))
            _observe_age(event.occurred_at, self.handler.clock.now())
        if decision.retry is not None:
            out.append(Outgoing(PROBE_RETRIES.name, lead_key, decision.retry.to_bytes()))
        if decision.ignored is not None:
            return None
        stored = self.handler.encode(decision)
        if self.changelog is not None:
            out.append(
                Outgoing(self.changelog, table_key(event.lead_id), stored, partition=partition)
            )
        return event, decision, stored

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
