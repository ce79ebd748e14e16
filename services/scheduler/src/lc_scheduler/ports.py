"""What the scheduler needs from the outside world, as protocols (tests use others)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from lc_common.events import Event, Topic


class ProbePublisher(Protocol):
    """Sends probe requests to a trunk's topic."""

    async def publish_many(self, topic: Topic | str, events: Iterable[tuple[str, Event]]) -> int:
        """Send (key, event) pairs and wait until the broker has them all."""
        ...

    async def recover(self) -> None:
        """Make the topics exist again after a failure (the broker may have lost them)."""
        ...
