"""The lanes loop of the consumer runner: a bound on events in flight per partition.

Each partition (lane) has its own bound, read from the spec's `PartitionLimits`
whenever the runner looks (so it may change: 0 stops a lane). Fetched events wait
in their lane's queue; a lane at its bound, or with a lane's worth of events
waiting, is paused in the consumer rather than holding a slot, so a full or stopped
lane never starves the others. With `commit_before_handle` the events about to
start are committed first (at most once), one commit per round.

`LanesMixin` holds these steps for `lc_common.consumer.ConsumerRunner`, which owns
the state they share (declared here) and handles and commits the events.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from lc_common.consuming.offsets import OffsetTracker, commit_within
from lc_common.consuming.spec import ConsumerSpec
from lc_common.metrics import EVENTS_CONSUMED

log = structlog.get_logger(__name__)

_LANE_POLL_MS = 50


class LanesMixin:
    """The lanes loop and the at-most-once starter of the consumer runner."""

    # Owned and initialised by the runner.
    _spec: ConsumerSpec[Any]
    _tracker: OffsetTracker
    _tasks: set[asyncio.Task[None]]
    _fatal: BaseException | None
    _committed: dict[TopicPartition, int]
    _pending: dict[TopicPartition, deque[ConsumerRecord[Any, Any]]]
    _running: dict[TopicPartition, int]
    _holding: bool
    _wake: asyncio.Event
    _assignments: int
    assigned: bool

    async def _handle(self, tp: TopicPartition, record: ConsumerRecord[Any, Any]) -> None:
        """Handle one event of the lane (the runner's)."""
        raise NotImplementedError

    async def _commit(self, consumer: AIOKafkaConsumer) -> None:
        """Commit what is done (the runner's)."""
        raise NotImplementedError

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
                await commit_within(consumer, offsets)
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
            topic=self._spec.topic.name,
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
