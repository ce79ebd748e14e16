"""What the scheduler needs from the outside world, as protocols (tests use others)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from lc_common.events import Event, Topic
from lc_scheduler.adapters.billing import Reservation
from lc_scheduler.adapters.ingest import DeleteOutcome, OpenLeadsPage
from lc_scheduler.domain.batches import BatchRecord
from lc_scheduler.domain.entries import Entry
from lc_scheduler.domain.lease import Lease


class ProbePublisher(Protocol):
    """Sends probe requests to a trunk's topic."""

    async def publish_many(self, topic: Topic | str, events: Iterable[tuple[str, Event]]) -> int:
        """Send (key, event) pairs and wait until the broker has them all."""
        ...

    async def recover(self) -> None:
        """Make the topics exist again after a failure (the broker may have lost them)."""
        ...


class ScheduleStore(Protocol):
    """The durable record of the schedule (MongoDB in production).

    Writes are fenced by the leader's epoch (set by `take_over`): one refused by
    a newer leader's stamp raises `leadership.LeadershipLost`.
    """

    async def take_over(self, epoch: int) -> None: ...

    async def open_entries(self) -> list[Entry]: ...

    async def entries(self, lead_ids: Sequence[str]) -> dict[str, Entry]: ...

    async def insert_new(self, entries: Sequence[Entry]) -> set[str]: ...

    async def save(self, entries: Iterable[Entry]) -> None: ...

    async def delete_batch_entries(self, batch_id: str, lead_ids: Sequence[str]) -> None: ...

    async def batches(self) -> list[BatchRecord]: ...

    async def save_batches(self, records: Iterable[BatchRecord]) -> None: ...


class LeaseStore(Protocol):
    """Where the lease is kept (MongoDB in production)."""

    async def read(self, name: str) -> Lease | None: ...

    async def write(self, lease: Lease, expected_version: int | None) -> bool: ...


class Billing(Protocol):
    """billing's reservation API (`adapters.billing`)."""

    async def reserve(self, account_id: str, leads: Sequence[tuple[str, str]]) -> Reservation: ...

    async def release_batch(self, batch_id: str) -> None: ...


class OpenLeadsSource(Protocol):
    """ingest's open leads, the source of truth of a re-drive (`adapters.ingest`)."""

    async def open_leads(self, after: str | None, limit: int) -> OpenLeadsPage: ...


class VerdictProgress(Protocol):
    """How far ingest has read the verdicts."""

    async def __call__(self, now: datetime, /) -> datetime:
        """A time before which ingest has handled every verdict (`now` if all of them)."""
        ...


class BatchDeleter(Protocol):
    """ingest's side of retention (`adapters.ingest`)."""

    async def delete_batch(
        self, batch_id: str, account_id: str, expired_before: datetime
    ) -> DeleteOutcome: ...
