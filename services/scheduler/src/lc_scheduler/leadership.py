"""Leader election: one scheduler replica holds the lease and dispatches; others wait.

The schedule's working copy lives in one process, so two replicas dispatching at
once would each hand out the trunks' room and break the channel bound. A standby
asks for the lease every `retry` seconds; the leader renews it every `renew`
seconds. A leader that cannot renew before its lease runs out raises
`LeadershipLost` (the process exits and restarts as a standby), and stops
dispatching as soon as its lease is no longer valid by its own clock.

Each term of a leader has an epoch (see `domain.lease`); the schedule's writes
are fenced by it (`adapters.repository`), and a write that a newer leader's
epoch refused raises `LeadershipLost` too.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from lc_common.clock import Clock
from lc_scheduler import metrics
from lc_scheduler.domain.lease import Lease, claim, released

if TYPE_CHECKING:
    from lc_scheduler.ports import LeaseStore

log = structlog.get_logger(__name__)

LEASE_NAME = "scheduler"


class LeadershipLost(RuntimeError):
    """Another replica holds the lease, or it could not be renewed in time."""


def instance_id() -> str:
    """A name for this process, unique across restarts: host, pid and a random tag."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Leadership:
    """Takes, keeps and gives up the scheduler's lease."""

    def __init__(
        self,
        store: LeaseStore,
        clock: Clock,
        owner: str,
        *,
        ttl: timedelta,
        renew: timedelta,
        name: str = LEASE_NAME,
    ) -> None:
        if renew >= ttl:
            raise ValueError("the lease must be renewed more often than it expires")
        self.store = store
        self.clock = clock
        self.owner = owner
        self.ttl = ttl
        self.renew = renew
        self.name = name
        self.lease: Lease | None = None
        self.holder: str | None = None

    @property
    def epoch(self) -> int:
        """The epoch of the term this process holds now (0 while it holds none)."""
        return self.lease.epoch if self.lease is not None else 0

    @property
    def is_leader(self) -> bool:
        """True while this process holds a lease that has not run out."""
        return self.lease is not None and self.lease.held_by(self.owner, self.clock.now())

    def detail(self) -> dict[str, object]:
        """Role and lease, for `/readyz`."""
        return {
            "role": "leader" if self.is_leader else "standby",
            "instance": self.owner,
            "lease_holder": self.owner if self.is_leader else self.holder,
            "lease_expires_at": self.lease.expires_at.isoformat() if self.lease else None,
        }

    async def try_acquire(self) -> bool:
        """Take or renew the lease if nobody else holds it; True if held now."""
        current = await self.store.read(self.name)
        self.holder = current.owner if current else None
        new = claim(current, self.name, self.owner, self.clock.now(), self.ttl)
        if new is None:
            self.lease = None
            return False
        if not await self.store.write(new, current.version if current else None):
            self.lease = None
            return False
        if self.lease is None:
            log.info("lease_acquired", instance=self.owner, previous=self.holder)
        self.lease, self.holder = new, self.owner
        metrics.LEADER.set(1)
        return True

    async def wait_until_leader(self, retry: timedelta | None = None) -> None:
        """Return once this process holds the lease (store errors are retried)."""
        every = (retry or self.renew).total_seconds()
        announced = False
        while True:
            try:
                if await self.try_acquire():
                    return
            except Exception as exc:  # the store is down: a standby just waits
                log.warning("lease_check_failed", error=repr(exc))
            if not announced:
                log.info("lease_standby", instance=self.owner, holder=self.holder)
                announced = True
            metrics.LEADER.set(0)
            await asyncio.sleep(every)

    async def keep(self) -> None:
        """Renew the lease until cancelled; raise `LeadershipLost` if it is lost."""
        term = self.epoch
        while True:
            await asyncio.sleep(self.renew.total_seconds())
            try:
                held = await self.try_acquire()
            except Exception as exc:
                if self.is_leader:  # still valid: try again at the next renewal
                    log.warning("lease_renewal_failed", error=repr(exc))
                    continue
                held = False
            if not held:
                metrics.LEADER.set(0)
                log.error("lease_lost", instance=self.owner, holder=self.holder)
                raise LeadershipLost(f"lease held by {self.holder}")
            if self.epoch != term:
                # The lease ran out and was claimed again: a new term, maybe after
                # another leader's. The working copy may be stale; start afresh.
                metrics.LEADER.set(0)
                log.error("lease_term_changed", instance=self.owner, epoch=self.epoch)
                raise LeadershipLost(f"term {term} ended; now {self.epoch}")

    async def release(self) -> None:
        """Give the lease up (on a clean stop) so a standby takes over at once."""
        lease, self.lease = self.lease, None
        metrics.LEADER.set(0)
        if lease is None:
            return
        current = await self.store.read(self.name)
        if current is None:
            return
        gone = released(current, self.owner, self.clock.now())
        if gone is not None and await self.store.write(gone, current.version):
            log.info("lease_released", instance=self.owner)
