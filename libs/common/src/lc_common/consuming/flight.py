"""What a consumer has in flight, and what a strategy's loop may use of its runner.

`InFlight` is the one place where work starts: the offsets it covers are marked in
flight, the work runs in its own task, and only when it succeeds are they marked
done (so commits stay below it); the first failure is kept and raised by the loop,
which ends the runner and, through its worker, the process.

`Session` is one running consumer as a strategy's loop sees it: fetch, commit what
is done, and the records' processor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from lc_common.consuming.offsets import OffsetTracker
from lc_common.consuming.records import RecordProcessor
from lc_common.consuming.spec import ConsumerSpec

log = structlog.get_logger(__name__)

Records = dict[TopicPartition, list[ConsumerRecord[Any, Any]]]


@dataclass
class InFlight:
    """The tasks in flight, the offsets they hold and the first permanent failure."""

    topic: str
    tracker: OffsetTracker = field(default_factory=OffsetTracker)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    fatal: BaseException | None = None

    def launch(
        self,
        offsets: Sequence[tuple[TopicPartition, int]],
        work: Coroutine[Any, Any, None],
        failed_event: str = "handler_failed_permanently",
    ) -> asyncio.Task[None]:
        """Run `work` in its own task, holding `offsets` in flight until it succeeds.

        If it raises, the offsets stay in flight (never committed) and the error is
        kept for `raise_if_failed`.
        """
        for tp, offset in offsets:
            self.tracker.start(tp, offset)
        task = asyncio.create_task(self._run(offsets, work, failed_event))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _run(
        self,
        offsets: Sequence[tuple[TopicPartition, int]],
        work: Coroutine[Any, Any, None],
        failed_event: str,
    ) -> None:
        try:
            await work
        except BaseException as exc:  # kept, raised by the loop: the process restarts
            self.fail(exc)
            if not isinstance(exc, asyncio.CancelledError):
                log.error(failed_event, topic=self.topic, error=repr(exc))
        else:
            for tp, offset in offsets:
                self.tracker.finish(tp, offset)

    def fail(self, exc: BaseException) -> None:
        """Keep the first permanent failure."""
        if self.fatal is None:
            self.fatal = exc

    def raise_if_failed(self) -> None:
        """Raise the first permanent failure, if there was one."""
        if self.fatal is not None:
            raise self.fatal

    async def drain(self) -> None:
        """Wait for every task in flight to end (however it ends)."""
        if self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


@dataclass
class Session:
    """One running consumer, as a strategy's loop sees it."""

    spec: ConsumerSpec[Any]
    consumer: AIOKafkaConsumer
    flight: InFlight
    records: RecordProcessor[Any]
    commit: Callable[[], Awaitable[None]]
    """Commit what is done (up to the lowest event in flight)."""
    fetched: Callable[[], None]
    """Told after every fetch (the runner notes whether it has partitions)."""
    check_positions: Callable[[], Awaitable[None]] | None = None
    """Run before every fetch (the runner's guard against positions past the end)."""

    async def fetch(self, timeout_ms: int, max_records: int) -> Records:
        """Records from the consumer's fetch (empty after `timeout_ms` if none)."""
        if self.check_positions is not None:
            await self.check_positions()
        batches: Records = await self.consumer.getmany(
            timeout_ms=timeout_ms, max_records=max_records
        )
        self.fetched()
        return batches

    async def fetch_fairly(self, timeout_ms: int, max_records: int) -> Records:
        """Like `fetch`, but each assigned partition with records buffered gets its share
        of `max_records` first; what is left goes to whichever partitions have more.

        aiokafka hands out its buffer a partition at a time, so a partition with a
        megabyte fetched (a 200,000-lead batch) fills bulk after bulk while the few
        records of another (a small batch, keyed to its own partition) wait behind it.
        """
        if self.check_positions is not None:
            await self.check_positions()
        consumer = self.consumer
        partitions = consumer.assignment()
        share = max(1, max_records // max(1, len(partitions)))
        batches: Records = {}
        for tp in partitions:
            batches.update(await consumer.getmany(tp, timeout_ms=0, max_records=share))
        taken = sum(len(records) for records in batches.values())
        if taken < max_records:
            rest = await consumer.getmany(
                timeout_ms=0 if taken else timeout_ms, max_records=max_records - taken
            )
            for tp, records in rest.items():
                # Later records of a partition the first pass took from: kept in order.
                batches[tp] = [*batches.get(tp, ()), *records]
        self.fetched()
        return batches


class Loop(Protocol):
    """A strategy at work: takes records from the session and launches their handling."""

    commits_done: bool
    """False when the loop commits events itself before starting them (at most once)."""

    async def run(self) -> None:
        """Take and handle records until cancelled; raise the first permanent failure."""
        ...

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """These partitions were assigned to the consumer."""
        ...

    def hold(self) -> None:
        """Start nothing more until the next assignment (revocation, shutdown)."""
        ...

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """These partitions were revoked; nothing of theirs is in flight any more."""
        ...
