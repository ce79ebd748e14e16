"""The in-memory indexes of the schedule: open entries, batch records, queues, trunks.

Pure bookkeeping, no I/O and no lock: `schedule.Schedule` owns the one
instance and reaches it only inside a transaction, after the store took the
change.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from lc_scheduler.domain.batches import BatchRecord
from lc_scheduler.domain.entries import Entry


class QueueItem(NamedTuple):
    """A queued entry's place; stale once the entry changed (another `rev`)."""

    due_at: datetime
    rev: int
    lead_id: str


@dataclass
class WorkingCopy:
    """Open entries by lead id, batch records, per-batch queues by due time, outstanding
    probes per trunk and the outbox (outstanding entries not published yet)."""

    entries: dict[str, Entry] = field(default_factory=dict)
    batches: dict[str, BatchRecord] = field(default_factory=dict)
    queues: dict[str, list[QueueItem]] = field(default_factory=lambda: defaultdict(list))
    outstanding: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    open_per_batch: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unsent: set[str] = field(default_factory=set)

    def apply(self, entry: Entry) -> bool:
        """Take the entry's new state in; True if it freed room on a trunk."""
        old = self.entries.get(entry.lead_id)
        freed = False
        if old is not None:
            freed = self._unlink(old)
        elif entry.state != "final":
            self.open_per_batch[entry.batch_id] += 1
        if entry.state == "final":
            if old is not None:
                del self.entries[entry.lead_id]
                self.open_per_batch[entry.batch_id] -= 1
            return freed
        self.entries[entry.lead_id] = entry
        if entry.state == "queued":
            self.enqueue(entry)
        elif entry.state == "outstanding" and entry.trunk is not None:
            self.outstanding[entry.trunk].add(entry.lead_id)
            if not entry.sent:
                self.unsent.add(entry.lead_id)
        return freed

    def enqueue(self, entry: Entry) -> None:
        """Put a queued entry in its batch's queue."""
        heapq.heappush(
            self.queues[entry.batch_id], QueueItem(entry.due_at, entry.rev, entry.lead_id)
        )

    def head(self, batch_id: str) -> QueueItem | None:
        """The batch's earliest queued entry (stale items dropped on the way)."""
        queue = self.queues.get(batch_id)
        while queue:
            item = queue[0]
            entry = self.entries.get(item.lead_id)
            if entry is None or entry.state != "queued" or entry.rev != item.rev:
                heapq.heappop(queue)
                continue
            return item
        return None

    def pop_head(self, batch_id: str) -> Entry:
        """Take the batch's head (after `head` found one) off its queue."""
        item = heapq.heappop(self.queues[batch_id])
        return self.entries[item.lead_id]

    def drop(self, batch_id: str, lead_ids: list[str]) -> bool:
        """Forget a batch's open entries and queue; True if it freed room on a trunk."""
        freed = False
        for lead_id in lead_ids:
            freed = self._unlink(self.entries.pop(lead_id)) or freed
        self.forget_queue(batch_id)
        return freed

    def forget_queue(self, batch_id: str) -> None:
        """Drop a batch's queue and open count (it has no open entry left)."""
        self.queues.pop(batch_id, None)
        self.open_per_batch.pop(batch_id, None)

    def _unlink(self, old: Entry) -> bool:
        self.unsent.discard(old.lead_id)
        if old.state == "outstanding" and old.trunk is not None:
            self.outstanding[old.trunk].discard(old.lead_id)
            return True
        return False
