"""How a consumer takes its events: the strategy a `ConsumerSpec` declares.

Every strategy sends each record down the same path (decode, handle with
retries, dead-letter, commit up to the lowest event in flight); they differ only
in how records are grouped and bounded on the way in:

- `Single`: each event handled on its own, up to `concurrency` at once (1: in order);
- `Lanes`: as `Single`, with a bound per partition as well (a lane each), and
  optionally at most once (`commit_before_handle`);
- `Bulk`: what one fetch returns, decoded and checked per event, then handed to
  one handler call for all of them.

These are declarations (plain values); `lc_common.consuming.runner` turns each into
the loop that runs it, in the spirit of arroyo's processing strategies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from lc_common.events.base import Event

E = TypeVar("E", bound=Event)


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
class Single:
    """Each event handled on its own, up to `concurrency` at once.

    With `concurrency` 1 events are handled in order; above it, ordering per key is
    not guaranteed.
    """

    concurrency: int = 1


@dataclass(frozen=True)
class Lanes:
    """Each partition (lane) bounded by `limits`, all of them by `concurrency`.

    A partition at its bound is paused in the consumer rather than holding a slot, so
    a full or stopped lane never starves the others.
    """

    limits: PartitionLimits
    concurrency: int
    commit_before_handle: bool = False
    """At most once: commit events before starting them, never retry a handler, drop
    events whose commit fails because their partition moved."""
    prefetch: int = 1
    """Events fetched and waiting per lane, in lanes' worth (its limit), so a lane's
    next events are at hand when a slot frees instead of a fetch away."""


async def nothing_to_check(event: Event) -> None:
    """The default `Bulk.check`: the event's contract refused the impossible already."""


@dataclass(frozen=True)
class Bulk(Generic[E]):
    """What one fetch returns (up to `max_bulk`), handed to `handler` in one call.

    Each event is decoded and passed to `check` first (it raises `PoisonEvent` for an
    impossible event, which is dead-lettered alone); `handler` then gets every good
    event and is retried as a whole. Up to `pipeline` bulks are in flight at once:
    the next is decoded and checked while the store writes the previous one. The
    spec's per-event handler is not used (contract tests and single events use it).
    """

    handler: Callable[[Sequence[E]], Awaitable[None]]
    check: Callable[[E], Awaitable[None]] = nothing_to_check
    max_bulk: int = 2000
    pipeline: int = 2


Strategy = Single | Lanes | Bulk[Any]
