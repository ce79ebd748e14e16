"""What a service declares to consume a topic, and what its handler may ask the runner.

A `ConsumerSpec` names the topic, group, handler, strategy and limits;
`current_partition()` tells a handler which lane it serves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from lc_common.consuming.groups import consumer_group, legacy_group
from lc_common.consuming.strategies import Lanes, PartitionLimits, Single, Strategy
from lc_common.events.base import Event
from lc_common.events.registry import Topic

__all__ = ["PARTITION", "ConsumerSpec", "PartitionLimits", "current_partition"]

E = TypeVar("E", bound=Event)

PARTITION: ContextVar[int] = ContextVar("lc_consumer_partition")
"""The partition of the event being handled; the runner sets it in each event's task."""


def current_partition() -> int:
    """The partition of the event being handled (call from inside a handler)."""
    return PARTITION.get()


@dataclass(frozen=True)
class ConsumerSpec(Generic[E]):
    """What to consume and how: topic, group, handler, strategy and limits."""

    topic: Topic
    group: str
    handler: Callable[[E], Awaitable[None]]
    strategy: Strategy = field(default_factory=Single)
    """How events are taken: `Single` (the default, one at a time), `Lanes` or `Bulk`."""
    max_attempts: int = 6
    max_backoff_seconds: float = 10.0
    fetch_max_wait_ms: int = 500
    """How long the broker may hold a fetch that finds nothing new (aiokafka's default);
    lower for lanes, whose resumed partitions otherwise wait for the pending fetch."""
    legacy_group: str | None = None
    """The group that read this topic before `group` was named by the rule
    (`lc_common.consuming.groups`): the runner adopts its offsets on start."""

    @classmethod
    def of(
        cls, service: str, topic: Topic, handler: Callable[[E], Awaitable[None]], **options: Any
    ) -> ConsumerSpec[E]:
        """The spec of `service`'s consumer of `topic`, its group named by the one rule
        (and its legacy group, whose offsets it adopts, if the name changed)."""
        return cls(
            topic,
            consumer_group(service, topic.name),
            handler,
            legacy_group=legacy_group(service, topic.name),
            **options,
        )

    @property
    def at_most_once(self) -> bool:
        """True when events are committed before they start (and never retried)."""
        return isinstance(self.strategy, Lanes) and self.strategy.commit_before_handle

    def decode(self, value: bytes | None) -> E:
        """The event in a raw message, as the runner decodes it (ValidationError if it is not)."""
        return cast(E, self.topic.model.model_validate_json(value or b""))
