"""One runner for every Kafka consumer: decode, handle, retry, dead-letter, commit.

Handlers stay small: they take a typed event and do their work. The runner owns
the rest, written once (`lc_common.consuming`):

- decode: a message that does not parse as the topic's model is parked on the
  dead-letter topic (logged and counted), never retried;
- poison: a handler that raises `PoisonEvent` gets the same treatment;
- transient errors (store down, broker hiccup) are retried with backoff; if they
  persist the runner raises, and the service exits so its supervisor restarts it;
- commits: offsets are committed only up to the lowest event still in flight, so
  a crash redelivers (at-least-once) and never skips an event. Handlers must be
  idempotent.

How events are taken is the spec's `strategy`:

- `Single(concurrency)` (the default): each event on its own; above 1, events are
  handled concurrently (ordering per key is then not guaranteed);
- `Lanes(limits, concurrency)`: each partition also has its own bound on events in
  flight, read from the `PartitionLimits` whenever the runner looks (0 stops a
  lane); a partition at its bound is paused in the consumer rather than holding a
  slot, so a full or stopped lane never starves the others; a handler learns which
  lane it serves from `current_partition()`. With `commit_before_handle` delivery
  is at most once: the runner commits a lane's events before it starts them (one
  commit for all the events it is about to start) and never retries a handler; an
  event whose commit fails because its partition moved to another consumer is
  dropped, not handled: it is the new owner's. The prober uses this so that a
  request is dialled by one prober at most;
- `Bulk(handler)`: what one fetch returns, checked per event, handled in one call
  (the scheduler's intake of accepted leads).

This module re-exports the public names services import.
"""

from __future__ import annotations

from lc_common.consuming.records import dead_letter_headers
from lc_common.consuming.runner import ConsumerRunner, start_consumers
from lc_common.consuming.spec import ConsumerSpec, current_partition
from lc_common.consuming.strategies import Bulk, Lanes, PartitionLimits, Single, Strategy

__all__ = [
    "Bulk",
    "ConsumerRunner",
    "ConsumerSpec",
    "Lanes",
    "PartitionLimits",
    "Single",
    "Strategy",
    "current_partition",
    "dead_letter_headers",
    "start_consumers",
]
