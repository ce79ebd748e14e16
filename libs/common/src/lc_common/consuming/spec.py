"""What a service declares to consume a topic, and what its handler may ask the runner.

A `ConsumerSpec` names the topic, group, handler and limits; `PartitionLimits`
bounds the events in flight per partition (lanes); `current_partition()` tells a
handler which lane it serves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, cast

from lc_common.events.base import Event
from lc_common.events.registry import Topic

E = TypeVar("E", bound=Event)

PARTITION: ContextVar[int] = ContextVar("lc_consumer_partition")
"""The partition of the event being handled; the runner sets it in each event's task."""


def current_partition() -> int:
    """The partition of the event being handled (call from inside a handler)."""
    return PARTITION.get()


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
