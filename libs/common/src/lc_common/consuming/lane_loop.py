"""The `Lanes` strategy's loop: a bound on events in flight per partition.

Each partition (lane) has its own bound, read from the strategy's `PartitionLimits`
whenever the loop looks (so it may change: 0 stops a lane). Fetched events wait
in their lane's queue; a lane at its bound, or with a lane's worth of events
waiting, is paused in the consumer rather than holding a slot, so a full or stopped
lane never starves the others. With `commit_before_handle` the events about to
start are committed first (at most once), one commit per round.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from typing import Any

import structlog
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from lc_common.consuming.flight import Records, Session
from lc_common.consuming.offsets import commit_within
from lc_common.consuming.strategies import Lanes
from lc_common.metrics import EVENTS_CONSUMED

log = structlog.get_logger(__name__)

_LANE_POLL_MS = 50


class LanesLoop:
    """The lanes loop and, at most once, the starter that commits before it starts."""

    def __init__(self, session: Session, lanes: Lanes) -> None:
        self._session = session
        self._lanes = lanes
        self.commits_done = not lanes.commit_before_handle
        self._pending: dict[TopicPartition, deque[ConsumerRecord[Any, Any]]] = {}
        self._running: dict[TopicPartition, int] = {}
        self._holding = False
        self._wake = asyncio.Event()
        self._assignments = 0

    async def run(self) -> None:
        """Take and handle events until cancelled; raise the first permanent failure."""
        if not self._lanes.commit_before_handle:
            await self._loop()
            return
        starter = asyncio.create_task(self._start_committed())
        try:
            await self._loop()
        finally:
            starter.cancel()
            await asyncio.gather(starter, return_exceptions=True)

    async def _loop(self) -> None:
        session, flight = self._session, self._session.flight
        last_commit = time.monotonic()
        while True:
            flight.raise_if_failed()
            self._fill_all()
            self._gate()
            room = max(1, self._lanes.concurrency - len(flight.tasks))
            batches = await session.fetch(_LANE_POLL_MS, room)
            for tp, records in batches.items():
                if tp not in self._pending:
                    self.assigned({tp})
                self._pending[tp].extend(records)
            self._fill_all()
            if time.monotonic() - last_commit > 0.5 or not flight.tasks:
                await session.commit()
                last_commit = time.monotonic()

    def _limit(self, tp: TopicPartition) -> int:
        return self._lanes.limits.limit(tp.partition)

    def _gate(self) -> None:
        """Pause each lane that is stopped or has a lane's worth of events waiting."""
        consumer = self._session.consumer
        paused = consumer.paused()
        for tp in consumer.assignment():
            limit = self._limit(tp)
            backlog = len(self._pending.get(tp, ()))
            full = limit == 0 or backlog >= max(1, limit) * self._lanes.prefetch
            if full and tp not in paused:
                consumer.pause(tp)
            elif not full and tp in paused:
                consumer.resume(tp)

    def _fill_all(self) -> None:
        for tp in list(self._pending):
            self._fill(tp)

    def _fill(self, tp: TopicPartition) -> None:
        """Start waiting events of the partition while its lane and the loop have room."""
        pending = self._pending.get(tp)
        flight = self._session.flight
        if not pending or self._holding or flight.fatal is not None:
            return
        if self._lanes.commit_before_handle:
            self._wake.set()  # `_start_committed` commits, then starts
            return
        limit = self._limit(tp)
        while pending and self._running[tp] < limit and len(flight.tasks) < self._lanes.concurrency:
            self._running[tp] += 1
            self._start(tp, pending.popleft())

    def _claim(self) -> Records:
        """Take the waiting events that lanes and loop have room for, counted as running."""
        claimed: Records = {}
        room = self._lanes.concurrency - len(self._session.flight.tasks)
        for tp, pending in self._pending.items():
            limit = self._limit(tp)
            while pending and room > 0 and self._running[tp] < limit:
                claimed.setdefault(tp, []).append(pending.popleft())
                self._running[tp] += 1
                room -= 1
        return claimed

    async def _start_committed(self) -> None:
        """At most once: commit the events about to start (one commit per round), then start them.

        Events claimed while a commit is under way wait for the next round, so the
        commits follow the fetches, not the events.
        """
        flight = self._session.flight
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._holding or flight.fatal is not None:
                continue
            assignments = self._assignments
            claimed = self._claim()
            if not claimed:
                continue
            offsets = {tp: records[-1].offset + 1 for tp, records in claimed.items()}
            try:
                await commit_within(self._session.consumer, offsets)
            except (CommitFailedError, IllegalStateError) as exc:
                self._drop(claimed, repr(exc))
                continue
            except Exception as exc:  # not committed: redelivered once the process restarts
                self._drop(claimed, repr(exc))
                flight.fail(exc)
                return
            if assignments != self._assignments:
                self._drop(claimed, "partitions reassigned during the commit")
                continue
            for tp, records in claimed.items():
                for record in records:
                    self._start(tp, record)

    def _drop(self, claimed: Records, error: str) -> None:
        """Forget claimed events whose commit failed: their partition is another consumer's."""
        count = 0
        for tp, records in claimed.items():
            count += len(records)
            if tp in self._running:
                self._running[tp] -= len(records)
        spec = self._session.spec
        EVENTS_CONSUMED.labels(spec.topic.name, spec.group, "not_committed").inc(count)
        log.warning(
            "events_dropped_uncommitted",
            topic=spec.topic.name,
            events=count,
            partitions=sorted(tp.partition for tp in claimed),
            error=error,
        )

    def _start(self, tp: TopicPartition, record: ConsumerRecord[Any, Any]) -> None:
        session = self._session
        task = session.flight.launch([(tp, record.offset)], session.records.handle(tp, record))
        task.add_done_callback(functools.partial(self._lane_done, tp))

    def _lane_done(self, tp: TopicPartition, _task: asyncio.Task[None]) -> None:
        if tp in self._running:
            self._running[tp] -= 1
        # A freed slot may serve this lane or, if the loop was full, any other.
        self._fill(tp)
        if len(self._session.flight.tasks) < self._lanes.concurrency:
            self._fill_all()

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """Open a lane (an empty queue) for each newly assigned partition."""
        for tp in partitions:
            self._pending.setdefault(tp, deque())
            self._running.setdefault(tp, 0)
        self._assignments += 1
        self._holding = False
        self._lanes.limits.assigned(frozenset(tp.partition for tp in self._pending))

    def hold(self) -> None:
        """Start no waiting event until the next assignment."""
        self._holding = True

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """Close the revoked lanes; events waiting in them are their next owner's."""
        self._assignments += 1
        for tp in partitions:
            self._pending.pop(tp, None)
            self._running.pop(tp, None)
        if partitions:
            self._lanes.limits.revoked(frozenset(tp.partition for tp in partitions))
