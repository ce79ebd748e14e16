"""Which attempt histories have outlived the retention period (pure, no I/O).

A batch and its leads are deleted six weeks after the batch finishes or is
paused (DESIGN.md section 1), so the history of a lead that has not changed for
that long belongs to a batch that is gone or going: it is pruned. The time is
the table's own (`LeadHistory.updated_at`, else the latest call), so pruning
needs nothing from other services and agrees across restarts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, ValidationError


class _Call(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tested_at: datetime


class _Stamp(BaseModel):
    """The part of a stored `LeadHistory` that pruning reads (cheaper than all of it)."""

    model_config = ConfigDict(extra="ignore")

    partition: int | None = None
    updated_at: datetime | None = None
    attempts: list[_Call] = []

    @property
    def touched_at(self) -> datetime | None:
        if self.updated_at is not None:
            return self.updated_at
        return max((call.tested_at for call in self.attempts), default=None)


@dataclass(frozen=True)
class Expired:
    """A history to prune: its key and the partition whose changelog holds it."""

    lead_id: str
    partition: int


def expired(
    entries: Iterable[tuple[str, bytes | str]],
    *,
    now: datetime,
    keep: timedelta,
    partitions: Collection[int],
    partition_of: Callable[[str], int],
) -> Iterator[Expired]:
    """The entries of `partitions` not changed within `keep` before `now`.

    An entry that does not say its partition (written before it was stored) is
    placed by `partition_of`, the producers' partitioner. An entry that cannot be
    read, or says no time at all, is pruned too: nothing could ever use it.
    """
    cutoff = now - keep
    for lead_id, stored in entries:
        try:
            stamp = _Stamp.model_validate_json(stored)
        except ValidationError:
            stamp = _Stamp()
        partition = stamp.partition if stamp.partition is not None else partition_of(lead_id)
        if partition not in partitions:
            continue  # another worker's (a standby copy here): its owner prunes it
        touched = stamp.touched_at
        if touched is None or touched < cutoff:
            yield Expired(lead_id, partition)
