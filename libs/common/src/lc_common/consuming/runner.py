"""The consumer runner: one Kafka consumer for one `ConsumerSpec`, its strategy's loop inside.

The runner owns what every strategy shares: the consumer's life (start, stop),
rebalances (finish what is in flight and commit before partitions move) and the
commit of what is done, up to the lowest event still in flight. The strategy's
loop (`Single`, `Lanes`, `Bulk`) decides how records are taken and grouped; every
record goes down the one path of `RecordProcessor`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError

from lc_common.consuming.adopt import adopt_legacy_offsets
from lc_common.consuming.bulk import BulkLoop
from lc_common.consuming.flight import InFlight, Loop, Session
from lc_common.consuming.lane_loop import LanesLoop
from lc_common.consuming.offsets import commit_within
from lc_common.consuming.past_end import CHECK_EVERY_SECONDS, rewind_past_end
from lc_common.consuming.records import RecordProcessor
from lc_common.consuming.single import SingleLoop
from lc_common.consuming.spec import ConsumerSpec
from lc_common.consuming.strategies import Bulk, Lanes, Single
from lc_common.events.base import Event
from lc_common.kafka import Publisher, kafka_client_options
from lc_common.metrics import ASSIGNED_PARTITIONS, COMMIT_FAILURES
from lc_common.service import Workers
from lc_common.settings import ServiceSettings

E = TypeVar("E", bound=Event)
log = structlog.get_logger(__name__)


def strategy_loop(session: Session) -> Loop:
    """The loop that runs the session's spec's strategy."""
    strategy = session.spec.strategy
    if isinstance(strategy, Single):
        return SingleLoop(session, strategy.concurrency)
    if isinstance(strategy, Lanes):
        return LanesLoop(session, strategy)
    if isinstance(strategy, Bulk):
        return BulkLoop(session, strategy)
    raise TypeError(f"unknown consumer strategy {strategy!r}")


class ConsumerRunner(Generic[E]):
    """Runs one `ConsumerSpec` until cancelled; raises if a handler keeps failing."""

    def __init__(self, settings: ServiceSettings, spec: ConsumerSpec[E], publisher: Publisher):
        self._settings = settings
        self._spec = spec
        self._records = RecordProcessor(settings, spec, publisher)
        self._flight = InFlight(spec.topic.name)
        self._committed: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._loop: Loop | None = None
        self._positions_checked = time.monotonic()
        self.assigned = False
        """True while the consumer holds partitions (as of its last fetch or assignment)."""

    @property
    def topic_name(self) -> str:
        return self._spec.topic.name

    async def run(self) -> None:
        """Consume until cancelled. Commits what is done on the way out."""
        if self._spec.legacy_group:
            await adopt_legacy_offsets(
                self._settings, self._spec.group, self._spec.legacy_group, self.topic_name
            )
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
        self._consumer = consumer
        session = Session(
            self._spec,
            consumer,
            self._flight,
            self._records,
            self._commit,
            self._fetched,
            self._rewind_past_end,
        )
        loop = self._loop = strategy_loop(session)
        consumer.subscribe([self._settings.topic(self._spec.topic.name)], listener=_Rebalance(self))
        await consumer.start()
        log.info("consumer_started", topic=self.topic_name, group=self._spec.group)
        try:
            await loop.run()
        finally:
            loop.hold()
            await self._flight.drain()
            try:
                await self._commit()
            finally:
                await consumer.stop()

    async def _rewind_past_end(self) -> None:
        """Every few seconds, send partitions whose position is past their end back to the
        start (`lc_common.consuming.past_end`), forgetting what was committed of them."""
        now = time.monotonic()
        if now - self._positions_checked < CHECK_EVERY_SECONDS:
            return
        self._positions_checked = now
        assert self._consumer is not None
        for tp in await rewind_past_end(self._consumer, self.topic_name):
            self._flight.tracker.forget({tp})
            self._committed.pop(tp, None)
            log.warning("position_past_end_rewound", topic=self.topic_name, partition=tp.partition)

    def _fetched(self) -> None:
        assert self._consumer is not None
        self.assigned = bool(self._consumer.assignment())

    async def _commit(self) -> None:
        """Commit, per partition still ours, up to the lowest event in flight."""
        consumer, loop = self._consumer, self._loop
        assert consumer is not None and loop is not None
        if not loop.commits_done:
            return  # committed before they started; committing the tracker's would go back
        offsets = {
            tp: off
            for tp, off in self._flight.tracker.committable().items()
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

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        """Finish what is in flight and commit before partitions move elsewhere.

        Events fetched but not started are dropped: they were never committed, so the
        partitions' next owner gets them.
        """
        assert self._loop is not None
        self._loop.hold()
        await self._flight.drain()
        try:
            await self._commit()
        except Exception as exc:  # the group moved on; the next owner redelivers
            log.warning("commit_on_revoke_failed", error=repr(exc))
        self._flight.tracker.forget(revoked)
        for tp in revoked:
            self._committed.pop(tp, None)
        self._loop.revoked(revoked)
        self._count_assigned(set())

    def _count_assigned(self, assigned: set[TopicPartition]) -> None:
        ASSIGNED_PARTITIONS.labels(self.topic_name, self._spec.group).set(len(assigned))

    def on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Open the assigned partitions in the strategy's loop."""
        assert self._loop is not None
        self.assigned = bool(assigned)
        self._loop.assigned(assigned)
        self._count_assigned(assigned)
        log.info("partitions_assigned", partitions=sorted(tp.partition for tp in assigned))


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: ConsumerRunner[Any]) -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._runner.on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._runner.on_assigned(set(assigned))


def start_consumers(
    workers: Workers,
    settings: ServiceSettings,
    specs: Iterable[ConsumerSpec[Any]],
    publisher: Publisher,
) -> None:
    """Run one `ConsumerRunner` per spec (its strategy chosen by the spec) as a background
    worker named after its topic."""
    for spec in specs:
        runner: ConsumerRunner[Any] = ConsumerRunner(settings, spec, publisher)
        workers.start(f"consumer:{spec.topic.name}", runner.run())
