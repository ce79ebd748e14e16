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

The runner's parts live in `lc_common.consuming` (spec, offsets, one record's fate,
the lanes loop); this module re-exports the public names services import.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError

from lc_common.consuming.lane_loop import LanesMixin
from lc_common.consuming.offsets import OffsetTracker, commit_within
from lc_common.consuming.records import RecordProcessor, dead_letter_headers
from lc_common.consuming.spec import PARTITION as _PARTITION
from lc_common.consuming.spec import ConsumerSpec, PartitionLimits, current_partition
from lc_common.events.base import Event
from lc_common.kafka import Publisher, kafka_client_options
from lc_common.metrics import COMMIT_FAILURES, HANDLE_SECONDS, IN_FLIGHT
from lc_common.service import Workers
from lc_common.settings import ServiceSettings

__all__ = [
    "ConsumerRunner",
    "ConsumerSpec",
    "PartitionLimits",
    "current_partition",
    "dead_letter_headers",
    "start_consumers",
]

E = TypeVar("E", bound=Event)
log = structlog.get_logger(__name__)


class ConsumerRunner(LanesMixin, Generic[E]):
    """Runs one `ConsumerSpec` until cancelled; raises if a handler keeps failing."""

    def __init__(self, settings: ServiceSettings, spec: ConsumerSpec[E], publisher: Publisher):
        if spec.commit_before_handle and spec.lanes is None:
            raise ValueError("commit_before_handle needs lanes")
        self._settings = settings
        self._spec = spec
        self._publisher = publisher
        self._records = RecordProcessor(settings, spec, publisher)
        self._tracker = OffsetTracker()
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
            await self._records.process(record)
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

    def _log_retry(self, state: Any) -> None:
        self._records.log_retry(state)

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], reason: str, detail: str
    ) -> None:
        await self._records.dead_letter(record, reason, detail)

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
            await commit_within(consumer, offsets)
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
