"""The ports ingest's handlers, routes, lifecycle and importer depend on.

`lc_ingest.adapters.store.MongoIngestStore` implements `IngestStore` on MongoDB;
tests/unit/ingest/fake_store.py keeps the same in memory. The store speaks the
domain's types (`Batch`, `Lead`, `LeadSummary`); documents stay in the adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from lc_common.events import Event, Topic
from lc_ingest.domain.batch import Batch, BatchStatus, Counters
from lc_ingest.domain.lead import Lead, LeadSummary


class IngestStore(Protocol):
    """Batches, their leads, and each account's last credit state.

    Batch `fields` are named as `Batch`'s attributes (and counters by their names),
    with the domain's values (datetimes, `Overrides`, tuples); the store translates.
    """

    # batches
    async def create_batch(self, batch: Batch) -> None: ...

    async def get_batch(self, batch_id: str, account_id: str | None = None) -> Batch | None:
        """The batch, or None; with an account id, None unless it belongs to that account."""
        ...

    async def list_batches(self, account_id: str) -> list[Batch]:
        """The account's batches, newest first."""
        ...

    async def batches_with_status(
        self, statuses: Sequence[BatchStatus], account_id: str | None = None
    ) -> list[Batch]: ...

    async def update_batch(
        self,
        batch_id: str,
        fields: Mapping[str, object],
        *,
        only_if_status: Sequence[BatchStatus] = (),
        expected_counters: Counters | None = None,
        announce: Event | None = None,
    ) -> Batch | None:
        """Set fields; with `only_if_status`, only when the batch is in one of them, and
        with `expected_counters`, only while its counters are these. `announce` is pushed
        into the batch's outbox in the same write. The batch after, or None when nothing
        matched."""
        ...

    async def add_to_counters(self, batch_id: str, deltas: Mapping[str, int]) -> Batch | None:
        """Add to batch counters and return the batch after (None: no such batch)."""
        ...

    # leads
    async def insert_leads(self, leads: Sequence[Lead]) -> int:
        """Insert leads, keeping any that exist (a resumed import); returns the new count."""
        ...

    async def mark_testing(
        self, batch_id: str, lead_ids: Sequence[str], attempt: int
    ) -> dict[str, int]:
        """The batch's leads whose attempt `attempt` is under way now become `testing`,
        unless final or already judged for that attempt; how many changed, per former
        state (`pending`, `retry`)."""
        ...

    async def get_lead(self, lead_id: str) -> Lead | None: ...

    async def save_verdict(self, before: Lead, after: Lead) -> bool:
        """Compare-and-set: write `after`'s verdict fields only if the lead's state and
        attempts are still `before`'s; True if written."""
        ...

    async def leads_by_id(self, lead_ids: Sequence[str]) -> list[LeadSummary]:
        """The leads among these ids that exist."""
        ...

    def iter_leads(
        self, batch_id: str, finalised_between: tuple[datetime, datetime] | None = None
    ) -> AsyncIterator[Lead]:
        """The batch's leads in row order, optionally only those finalised in `[start, end)`."""
        ...

    async def count_states(self, batch_id: str) -> dict[str, int]:
        """How many of the batch's leads are in each state."""
        ...

    async def daily_counts(
        self, account_id: str, between: tuple[datetime, datetime]
    ) -> dict[str, dict[str, int]]:
        """Per batch of the account, final verdicts by state finalised in `[start, end)`."""
        ...

    async def open_leads(self, after: str, limit: int) -> list[LeadSummary]:
        """Leads not final yet, in id order after `after` (the scheduler's re-drive)."""
        ...

    async def purge_leads(self, batch_id: str) -> int: ...

    # accounts
    async def record_credit(self, account_id: str, state: str, at: datetime) -> bool:
        """Keep the account's credit state as of `at` unless a newer one is kept; True if
        it changed. A replayed or older billing event changes nothing."""
        ...

    async def credit_state(self, account_id: str) -> str | None:
        """`exhausted`, `restored`, or None if billing never said."""
        ...


class LeadPublisher(Protocol):
    """Sends the accepted leads (`lc_common.kafka.Publisher`)."""

    async def publish_many(self, topic: Topic | str, events: Iterable[tuple[str, Event]]) -> int:
        """Send many (key, event) pairs; wait until the broker has them all."""
        ...
