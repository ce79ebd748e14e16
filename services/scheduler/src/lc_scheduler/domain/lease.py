"""The scheduler's lease: which replica may dispatch, until when.

One lease document names its owner and when it expires. A replica takes the
lease when nobody holds it, when it holds it already (renewal) or when the
holder let it expire; every change is a compare-and-set on the document's
version, so of two replicas trying at once exactly one wins.

Each claim by a new holder increments the lease's `epoch` (renewals keep it):
the scheduler's writes are fenced by it, so a leader that lost the lease
without noticing can no longer change the schedule (docs/invariants.md I8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Lease:
    """The stored lease: owner, expiry, a version bumped by every change, and its epoch."""

    name: str
    owner: str
    expires_at: datetime
    version: int
    acquired_at: datetime
    epoch: int = 1

    def held_by(self, owner: str, now: datetime) -> bool:
        """True if `owner` holds the lease at `now`."""
        return self.owner == owner and now < self.expires_at


def claim(
    current: Lease | None, name: str, owner: str, now: datetime, ttl: timedelta
) -> Lease | None:
    """The lease `owner` would write to take or renew it at `now`, or None if another holds it.

    A released lease (expired at its release time) is free at once.
    """
    if current is None:
        return Lease(name, owner, now + ttl, 1, now, epoch=1)
    if current.owner != owner and now < current.expires_at:
        return None
    if current.held_by(owner, now):
        return Lease(
            name, owner, now + ttl, current.version + 1, current.acquired_at, current.epoch
        )
    # A new term, even for the same owner after its lease ran out: it may have been
    # claimed and lost meanwhile, and its old writes must not pass for new ones.
    return Lease(name, owner, now + ttl, current.version + 1, now, current.epoch + 1)


def released(current: Lease, owner: str, now: datetime) -> Lease | None:
    """The lease given up by its owner (expired now), or None if `owner` does not hold it."""
    if current.owner != owner:
        return None
    return Lease(
        current.name,
        owner,
        min(now, current.expires_at),
        current.version + 1,
        now,
        current.epoch,
    )
