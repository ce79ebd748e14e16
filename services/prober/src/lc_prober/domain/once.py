"""The probe ids this process has started a call for: a request seen again is not dialled.

Bounded: the oldest ids are forgotten first. Commit-before-dial already keeps a request
from reaching a second prober; this keeps a redelivery to the same process (its commit
failed, the partition came back) from ringing the number a second time.
"""

from __future__ import annotations

from collections import OrderedDict


class StartedProbes:
    """A bounded, insertion-ordered set of probe ids."""

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, probe_id: object) -> bool:
        return probe_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, probe_id: str) -> None:
        """Remember a started probe id, forgetting the oldest beyond the capacity."""
        self._ids[probe_id] = None
        self._ids.move_to_end(probe_id)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
