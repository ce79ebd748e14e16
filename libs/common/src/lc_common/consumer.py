"""One runner for every Kafka consumer: decode, handle, retry, dead-letter, commit.

Handlers stay small: they take a typed event and do their work. The runner owns
the rest, written once:

- decode: a message that does not parse as the topic's model is parked on the
  dead-letter topic (logged and counted), never retried;
- poison: a handler that raises `PoisonEvent` gets the same treatment;
- transient errors (store down, broker hiccup) are retried with backoff; if they
  persist the runner raises, and the service exits so its supervisor restarts it;
- commits: offsets are committed only up to the lowest event still in flight, so
  a crash redelivers (at-least-once) and never skips an event. Handlers must be
  idempotent.

With `concurrency` > 1 events are handled concurrently (the prober uses this to
keep many calls in flight); ordering per key is then not guaranteed.

With `lanes` each partition also has its own bound on events in flight, read from
the `PartitionLimits` whenever the runner looks (so it may change: 0 stops a lane).
A partition at its bound is paused in the consumer rather than holding a slot, so
a full or stopped lane never starves the others; a handler learns which lane it
serves from `current_partition()`.

With `commit_before_handle` (lanes only) delivery is at most once: the runner
commits a lane's events before it starts them (one commit for all the events it
is about to start, not one per event) and never retries a handler. An event
whose commit fails because its partition moved to another consumer (the group
rebalanced while this one was stopped) is dropped, not handled: it is the new
owner's. The prober uses this so that a request is dialled by one prober at most.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import OffsetAndMetadata
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from lc_common.errors import PoisonEvent
from lc_common.events.base import Event
from lc_common.events.registry import Topic
from lc_common.kafka import Publisher, kafka_client_options
from lc_common.metrics import (
    COMMIT_FAILURES,
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
    HANDLE_SECONDS,
    HANDLER_RETRIES,
    IN_FLIGHT,
)
from lc_common.service import Workers
from lc_common.settings import ServiceSettings

E = TypeVar("E", bound=Event)
log = structlog.get_logger(__name__)

_BOUND_IDS = ("batch_id", "lead_id", "account_id", "trunk", "probe_id", "attempt")
_PARTITION: ContextVar[int] = ContextVar("lc_consumer_partition")
_LANE_POLL_MS = 50


def current_partition() -> int:
    """The partition of the event being handled (call from inside a handler)."""
    return _PARTITION.get()


class PartitionLimits(Protocol):
    """Per-partition bounds on events in flight (lanes), told of (re)assignments."""

    def limit(self, partition: int) -> int:
        """Events of this partition that may be in flight now; 0 stops taking its events."""
        ...

    def assigned(self, partitions: frozenset[int]) -> None:
        """This consumer now owns these partitions (the whole new assignment)."""
        ...

    def revoked(self, partitions: frozenset[int]) -> None:
        """These partitions are no longer ours; nothing of theirs is in flight any more."""
        ...


@dataclass(frozen=True)
class ConsumerSpec(Generic[E]):
    """What to consume and how: topic, group, handler and limits."""

    topic: Topic
    group: str
    handler: Callable[[E], Awaitable[None]]
    concurrency: int = 1
    max_attempts: int = 6
    max_backoff_seconds: float = 10.0
    lanes: PartitionLimits | None = None
    """Per-partition bounds within `concurrency`; None: only `concurrency` bounds."""
    commit_before_handle: bool = False
    """At most once (needs `lanes`): commit events before starting them, never retry a
    handler, drop events whose commit fails because their partition moved."""
    lane_prefetch: int = 1
    """With `lanes`: events fetched and waiting per lane, in lanes' worth (its limit), so
    a lane's next events are at hand when a slot frees instead of a fetch away."""
    fetch_max_wait_ms: int = 500
    """How long the broker may hold a fetch that finds nothing new (aiokafka's default);
    lower for lanes, whose resumed partitions otherwise wait for the pending fetch."""

    def decode(self, value: bytes | None) -> E:
        """The event in a raw message, as the runner decodes it (ValidationError if it is not)."""
        return cast(E, self.topic.model.model_validate_json(value or b""))


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


@dataclass
class _OffsetTracker:
    """Per partition, the offsets in flight and the next offset safe to commit."""

    in_flight: dict[TopicPartition, set[int]] = field(default_factory=dict)
    next_offset: dict[TopicPartition, int] = field(default_factory=dict)

    def start(self, tp: TopicPartition, offset: int) -> None:
        self.in_flight.setdefault(tp, set()).add(offset)
        self.next_offset[tp] = max(self.next_offset.get(tp, 0), offset + 1)

    def finish(self, tp: TopicPartition, offset: int) -> None:
        self.in_flight.get(tp, set()).discard(offset)

    def committable(self) -> dict[TopicPartition, int]:
        result = {}
        for tp, nxt in self.next_offset.items():
            pending = self.in_flight.get(tp)
            result[tp] = min(pending) if pending else nxt
        return result

    def forget(self, tps: set[TopicPartition]) -> None:
        for tp in tps:
            self.in_flight.pop(tp, None)
            self.next_offset.pop(tp, None)


class ConsumerRunner(Generic[E]):
    """Runs one `ConsumerSpec` until cancelled; raises if a handler keeps failing."""

    def __init__(self, settings: ServiceSettings, spec: ConsumerSpec[E], publisher: Publisher):
        if spec.commit_before_handle and spec.lanes is None:
            raise ValueError("commit_before_handle needs lanes")
        self._settings = settings
        self._spec = spec
        self._publisher = publisher
        self._tracker = _OffsetTracker()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(spec.concurrency)
        self._fatal: BaseException | None = None
        self._committed: dict[TopicPartition, int] = {}
        self._pending: dict[TopicPartition, deque[ConsumerRecord[Any, Any]]] = {}
        self._running: dict[TopicPartition, int] = {}
        self._holding = False
        self._wake = asyncio.Event()
        self._assignments = 0
        self.assigned = False

    @property
    def topic_name(self) -> str:
        return self._spec.topic.name

    async def run(self) -> None:
        """Consume until cancelled. Commits what is done on the way out."""
        consumer = AIOKafkaConsumer(
            **kafka_client_options(self._settings),
            group_id=self._settings.topic(self._spec.group),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=600_000,
            session_timeout_ms=30_000,
            heartbeat_interval_ms=3_000,
            fetch_max_wait_ms=self._spec.fetch_max_wait_ms,
        )
        consumer.subscribe(
            [self._settings.topic(self._spec.topic.name)], listener=_Rebalance(self, consumer)
        )
        await consumer.start()
        log.info("consumer_started", topic=self.topic_name, group=self._spec.group)
        try:
            if self._spec.lanes is None:
                await self._loop(consumer)
            elif not self._spec.commit_before_handle:
                await self._loop_lanes(consumer)
            else:
                starter = asyncio.create_task(self._start_committed(consumer))
                try:
                    await self._loop_lanes(consumer)
                finally:
                    starter.cancel()
                    await asyncio.gather(starter, return_exceptions=True)
        finally:
            self._holding = True
            await self._drain()
            try:
                await self._commit(consumer)
            finally:
                await consumer.stop()

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        last_commit = time.monotonic()
        while True:
            if self._fatal is not None:
                raise self._fatal
            free = self._spec.concurrency - len(self._tasks)
            batches = await consumer.getmany(timeout_ms=200, max_records=max(1, free))
            self.assigned = bool(consumer.assignment())
            for tp, records in batches.items():
                for record in records:
                    await self._slots.acquire()
                    if self._fatal is not None:
                        self._slots.release()
                        raise self._fatal
                    self._tracker.start(tp, record.offset)
                    task = asyncio.create_task(self._handle(tp, record))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                    task.add_done_callback(lambda _: self._slots.release())
            if self._spec.concurrency == 1 and self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            if time.monotonic() - last_commit > 0.5 or not self._tasks:
                await self._commit(consumer)
                last_commit = time.monotonic()

    async def _loop_lanes(self, consumer: AIOKafkaConsumer) -> None:
        last_commit = time.monotonic()
        while True:
            if self._fatal is not None:
                raise self._fatal
            self._fill_all()
            self._gate(consumer)
            room = max(1, self._spec.concurrency - len(self._tasks))
            batches = await consumer.getmany(timeout_ms=_LANE_POLL_MS, max_records=room)
            self.assigned = bool(consumer.assignment())
            for tp, records in batches.items():
                if tp not in self._pending:
                    self.lanes_assigned({tp})
                self._pending[tp].extend(records)
            self._fill_all()
            if time.monotonic() - last_commit > 0.5 or not self._tasks:
                await self._commit(consumer)
                last_commit = time.monotonic()

    def _limit(self, tp: TopicPartition) -> int:
        assert self._spec.lanes is not None
        return self._spec.lanes.limit(tp.partition)

    def _gate(self, consumer: AIOKafkaConsumer) -> None:
        """Pause each lane that is stopped or has a lane's worth of events waiting."""
        paused = consumer.paused()
        for tp in consumer.assignment():
            limit = self._limit(tp)
            backlog = len(self._pending.get(tp, ()))
            full = limit == 0 or backlog >= max(1, limit) * self._spec.lane_prefetch
            if full and tp not in paused:
                consumer.pause(tp)
            elif not full and tp in paused:
                consumer.resume(tp)

    def _fill_all(self) -> None:
        for tp in list(self._pending):
            self._fill(tp)

    def _fill(self, tp: TopicPartition) -> None:
        """Start waiting events of the partition while its lane and the runner have room."""
        pending = self._pending.get(tp)
        if not pending or self._holding or self._fatal is not None:
            return
        if self._spec.commit_before_handle:
            self._wake.set()  # `_start_committed` commits, then starts
            return
        limit = self._limit(tp)
        while pending and self._running[tp] < limit and len(self._tasks) < self._spec.concurrency:
            self._running[tp] += 1
            self._start_task(tp, pending.popleft())

    def _claim(self) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
        """Take the waiting events that lanes and runner have room for, counted as running."""
        claimed: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] = {}
        room = self._spec.concurrency - len(self._tasks)
        for tp, pending in self._pending.items():
            limit = self._limit(tp)
            while pending and room > 0 and self._running[tp] < limit:
                claimed.setdefault(tp, []).append(pending.popleft())
                self._running[tp] += 1
                room -= 1
        return claimed

    async def _start_committed(self, consumer: AIOKafkaConsumer) -> None:
        """At most once: commit the events about to start (one commit per round), then start them.

        Events claimed while a commit is under way wait for the next round, so the
        commits follow the fetches, not the events.
        """
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._holding or self._fatal is not None:
                continue
            assignments = self._assignments
            claimed = self._claim()
            if not claimed:
                continue
            offsets = {tp: records[-1].offset + 1 for tp, records in claimed.items()}
            try:
                await consumer.commit(
                    {tp: OffsetAndMetadata(off, "") for tp, off in offsets.items()}
                )
            except (CommitFailedError, IllegalStateError) as exc:
                self._drop(claimed, repr(exc))
                continue
            except Exception as exc:  # not committed: redelivered once the process restarts
                self._drop(claimed, repr(exc))
                self._fatal = exc
                return
            if assignments != self._assignments:
                self._drop(claimed, "partitions reassigned during the commit")
                continue
            self._committed.update(offsets)
            for tp, records in claimed.items():
                for record in records:
                    self._start_task(tp, record)

    def _drop(
        self, claimed: dict[TopicPartition, list[ConsumerRecord[Any, Any]]], error: str
    ) -> None:
        """Forget claimed events whose commit failed: their partition is another consumer's."""
        count = 0
        for tp, records in claimed.items():
            count += len(records)
            if tp in self._running:
                self._running[tp] -= len(records)
        EVENTS_CONSUMED.labels(self._spec.topic.name, self._spec.group, "not_committed").inc(count)
        log.warning(
            "events_dropped_uncommitted",
            topic=self.topic_name,
            events=count,
            partitions=sorted(tp.partition for tp in claimed),
            error=error,
        )

    def _start_task(self, tp: TopicPartition, record: ConsumerRecord[Any, Any]) -> None:
        self._tracker.start(tp, record.offset)
        task = asyncio.create_task(self._handle(tp, record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(functools.partial(self._lane_done, tp))

    def _lane_done(self, tp: TopicPartition, _task: asyncio.Task[None]) -> None:
        if tp in self._running:
            self._running[tp] -= 1
        # A freed slot may serve this lane or, if the runner was full, any other.
        self._fill(tp)
        if len(self._tasks) < self._spec.concurrency:
            self._fill_all()

    def lanes_assigned(self, assigned: set[TopicPartition]) -> None:
        """Open a lane (an empty queue) for each newly assigned partition."""
        for tp in assigned:
            self._pending.setdefault(tp, deque())
            self._running.setdefault(tp, 0)
        self._assignments += 1
        self._holding = False
        if self._spec.lanes is not None:
            self._spec.lanes.assigned(frozenset(tp.partition for tp in self._pending))

    async def _handle(self, tp: TopicPartition, record: ConsumerRecord[Any, Any]) -> None:
        topic = self._spec.topic.name
        IN_FLIGHT.labels(topic).inc()
        started = time.perf_counter()
        _PARTITION.set(tp.partition)
        # Each event runs in its own task, whose context is a copy: what is bound here
        # ends with the task, so there is nothing to unbind (cheaper than bound_contextvars).
        structlog.contextvars.bind_contextvars(
            topic=topic, partition=tp.partition, offset=record.offset
        )
        try:
            await self._decode_and_handle(record)
        except BaseException as exc:  # recorded, re-raised by the loop
            if self._fatal is None:
                self._fatal = exc
            if not isinstance(exc, asyncio.CancelledError):
                log.error("handler_failed_permanently", topic=topic, error=repr(exc))
        else:
            self._tracker.finish(tp, record.offset)
        finally:
            HANDLE_SECONDS.labels(topic).observe(time.perf_counter() - started)
            IN_FLIGHT.labels(topic).dec()

    async def _decode_and_handle(self, record: ConsumerRecord[Any, Any]) -> None:
        topic, group = self._spec.topic.name, self._spec.group
        try:
            event = self._spec.decode(record.value)
        except ValidationError as exc:
            await self._dead_letter(record, "undecodable", str(exc))
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
                before_sleep=self._log_retry,
                reraise=True,
            ):
                with attempt:
                    await self._spec.handler(event)
        except PoisonEvent as exc:
            await self._dead_letter(record, "poison", str(exc))
            EVENTS_CONSUMED.labels(topic, group, "dead_lettered").inc()
            return
        EVENTS_CONSUMED.labels(topic, group, "ok").inc()

    def _log_retry(self, state: Any) -> None:
        HANDLER_RETRIES.labels(self._spec.topic.name).inc()
        outcome = state.outcome
        log.warning(
            "handler_retry",
            attempt=state.attempt_number,
            error=repr(outcome.exception()) if outcome else None,
        )

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], reason: str, detail: str
    ) -> None:
        topic = self._spec.topic
        headers = dead_letter_headers(
            reason, detail, record.topic, record.partition, record.offset, self._spec.group
        )
        await self._publisher.producer.send_and_wait(
            self._settings.topic(topic.dlq), record.value, key=record.key, headers=headers
        )
        EVENTS_DEAD_LETTERED.labels(topic.name, reason).inc()
        log.error("event_dead_lettered", reason=reason, detail=detail[:500], dlq=topic.dlq)

    async def _drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _commit(self, consumer: AIOKafkaConsumer) -> None:
        if self._spec.commit_before_handle:
            return  # committed before they started; committing the tracker's would go back
        offsets = {
            tp: off
            for tp, off in self._tracker.committable().items()
            if self._committed.get(tp) != off and tp in consumer.assignment()
        }
        if not offsets:
            return
        try:
            await consumer.commit({tp: OffsetAndMetadata(off, "") for tp, off in offsets.items()})
        except (CommitFailedError, IllegalStateError) as exc:
            # The group moved on without us (a rebalance, or a broker that lost the
            # group): the events stay uncommitted and their next owner handles them again,
            # which every handler tolerates. Crashing here would only add a restart.
            COMMIT_FAILURES.labels(self.topic_name).inc()
            log.warning("commit_refused", topic=self.topic_name, error=repr(exc))
            return
        self._committed.update(offsets)

    async def on_revoked(self, consumer: AIOKafkaConsumer, revoked: set[TopicPartition]) -> None:
        """Finish what is in flight and commit before partitions move elsewhere.

        Events fetched but not started are dropped: they were never committed, so the
        partitions' next owner gets them.
        """
        self._holding = True
        await self._drain()
        try:
            await self._commit(consumer)
        except Exception as exc:  # the group moved on; the next owner redelivers
            log.warning("commit_on_revoke_failed", error=repr(exc))
        self._tracker.forget(revoked)
        self._assignments += 1
        for tp in revoked:
            self._committed.pop(tp, None)
            self._pending.pop(tp, None)
            self._running.pop(tp, None)
        if self._spec.lanes is not None and revoked:
            self._spec.lanes.revoked(frozenset(tp.partition for tp in revoked))


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: ConsumerRunner[Any], consumer: AIOKafkaConsumer) -> None:
        self._runner = runner
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._runner.on_revoked(self._consumer, set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._runner.assigned = bool(assigned)
        self._runner.lanes_assigned(set(assigned))
        log.info("partitions_assigned", partitions=sorted(tp.partition for tp in assigned))


def start_consumers(
    workers: Workers,
    settings: ServiceSettings,
    specs: Iterable[ConsumerSpec[Any]],
    publisher: Publisher,
) -> None:
    """Run one `ConsumerRunner` per spec as a background worker named after its topic."""
    for spec in specs:
        runner: ConsumerRunner[Any] = ConsumerRunner(settings, spec, publisher)
        workers.start(f"consumer:{spec.topic.name}", runner.run())
