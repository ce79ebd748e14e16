"""Which offsets the consumer runner may commit: up to the lowest event still in flight.

A crash then redelivers what was not finished (at-least-once) and never skips an
event, however the events of a partition finish out of order.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

# Far above a healthy commit (milliseconds), far below a consumer session.
COMMIT_TIMEOUT_SECONDS = 30.0


class CommitStuck(RuntimeError):
    """A commit the broker kept refusing with a retriable error: the process must restart."""


async def commit_within(
    consumer: AIOKafkaConsumer,
    offsets: dict[TopicPartition, int],
    stuck_after: float = COMMIT_TIMEOUT_SECONDS,
) -> None:
    """Commit the offsets, or raise `CommitStuck` after `stuck_after` seconds.

    aiokafka retries a retriable commit error without end: after a broker restarted
    empty, a partition the topic no longer has (it came back with fewer) answers
    UNKNOWN_TOPIC_OR_PARTITION to every try, and the consumer would hang for good.
    A fresh process reads the topics as they are now.
    """
    try:
        await asyncio.wait_for(
            consumer.commit({tp: OffsetAndMetadata(off, "") for tp, off in offsets.items()}),
            stuck_after,
        )
    except TimeoutError as exc:
        raise CommitStuck(f"commit of {len(offsets)} partitions stuck {stuck_after}s") from exc


@dataclass
class OffsetTracker:
    """Per partition, the offsets in flight and the next offset safe to commit."""

    in_flight: dict[TopicPartition, set[int]] = field(default_factory=dict)
    next_offset: dict[TopicPartition, int] = field(default_factory=dict)

    def start(self, tp: TopicPartition, offset: int) -> None:
        """The event at `offset` is now in flight."""
        self.in_flight.setdefault(tp, set()).add(offset)
        self.next_offset[tp] = max(self.next_offset.get(tp, 0), offset + 1)

    def finish(self, tp: TopicPartition, offset: int) -> None:
        """The event at `offset` is done (handled or dead-lettered)."""
        self.in_flight.get(tp, set()).discard(offset)

    def committable(self) -> dict[TopicPartition, int]:
        """Per partition, the offset to commit: the lowest in flight, else the next one."""
        result = {}
        for tp, nxt in self.next_offset.items():
            pending = self.in_flight.get(tp)
            result[tp] = min(pending) if pending else nxt
        return result

    def forget(self, tps: set[TopicPartition]) -> None:
        """Drop what is known of these partitions (they were revoked)."""
        for tp in tps:
            self.in_flight.pop(tp, None)
            self.next_offset.pop(tp, None)
