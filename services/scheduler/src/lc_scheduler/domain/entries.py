"""A dispatch entry (one per lead) and how events move it between states.

States: `queued` (waits for `due_at`), `outstanding` (a probe request is out on
`trunk` with `probe_id`), `final` (a final verdict arrived; never dispatched again).

An outstanding entry is also the outbox of its probe request (docs/invariants.md
I7): it is stored with `sent` false, and the relay publishes the request and
then marks it sent, so a crash between the two delays the request, never loses it.

Every transition is a pure function returning a new entry, or None when the
event changes nothing (a duplicate, a stale event, a lead already final). This is
the idempotency of the scheduler: the attempt number only grows, and retry event
ids already applied are remembered.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

State = Literal["queued", "outstanding", "final"]

# How many applied retry event ids an entry remembers, to drop exact redeliveries.
_REMEMBERED_RETRIES = 10


@dataclass(frozen=True)
class Entry:
    """The scheduler's view of one lead."""

    lead_id: str
    account_id: str
    batch_id: str
    e164: str
    state: State
    attempt: int
    due_at: datetime
    zones: tuple[str, ...] = ()
    country: str | None = None
    avoid_trunk: str | None = None
    probe_id: str | None = None
    trunk: str | None = None
    dispatched_at: datetime | None = None
    finalised_at: datetime | None = None
    last_reason: str | None = None
    retry_events: tuple[str, ...] = field(default=())
    # Outstanding only: whether its probe request has been published.
    sent: bool = False
    rev: int = 0

    def log_ids(self) -> dict[str, object]:
        """The ids a log line about this entry binds."""
        return {
            "lead_id": self.lead_id,
            "batch_id": self.batch_id,
            "trunk": self.trunk,
            "probe_id": self.probe_id,
            "attempt": self.attempt,
        }

    def evolve(self, **changes: Any) -> Entry:
        """A copy with the changes and the revision bumped."""
        return dataclasses.replace(self, rev=self.rev + 1, **changes)


def dispatched(entry: Entry, *, probe_id: str, trunk: str, at: datetime) -> Entry:
    """The entry once it is given to a trunk: its probe request waits to be published."""
    return entry.evolve(
        state="outstanding", probe_id=probe_id, trunk=trunk, dispatched_at=at, sent=False
    )


def published(entry: Entry) -> Entry:
    """The outstanding entry once its probe request is on the broker."""
    return entry.evolve(sent=True)


def settled(entry: Entry, now: datetime) -> Entry:
    """A lead billing already holds as charged or final: closed without being dialled."""
    return _closed(entry, now, "settled")


def _closed(entry: Entry, now: datetime, reason: str) -> Entry:
    """The lead final for good, off any trunk."""
    return entry.evolve(
        state="final", probe_id=None, trunk=None, sent=False, finalised_at=now, last_reason=reason
    )


def deferred(entry: Entry, due_at: datetime) -> Entry:
    """The entry with its due time moved (outside its calling window)."""
    return entry.evolve(due_at=due_at)


def _queued_again(entry: Entry, due_at: datetime, reason: str, **changes: Any) -> Entry:
    """The lead back in its queue, off any trunk (a new probe id); the same attempt unless
    `changes` says otherwise."""
    return entry.evolve(
        state="queued",
        due_at=due_at,
        probe_id=None,
        trunk=None,
        dispatched_at=None,
        sent=False,
        finalised_at=None,
        last_reason=reason,
        **changes,
    )


def requeued_after_timeout(entry: Entry, now: datetime) -> Entry | None:
    """An outstanding probe nobody answered: dispatch again, same attempt, new probe id."""
    if entry.state != "outstanding":
        return None
    return _queued_again(entry, now, "timeout")


def voided_by_pause(entry: Entry, paused_at: datetime, due_at: datetime) -> Entry | None:
    """An outstanding probe dispatched at or before its batch's pause: the prober drops its
    request, so the lead is queued again (same attempt, new probe id at `due_at`)."""
    if (
        entry.state != "outstanding"
        or entry.dispatched_at is None
        or entry.dispatched_at > paused_at
    ):
        return None
    return _queued_again(entry, due_at, "paused")


REDRIVE = "redrive"
"""`last_reason` of a lead a re-drive reopened (ingest, the database of record, holds it open)."""


def reopened(entry: Entry, now: datetime) -> Entry:
    """A lead the database of record still calls open: test it again (same attempt)."""
    return _queued_again(entry, now, REDRIVE)


def after_retry(
    entry: Entry,
    *,
    event_id: str,
    attempt: int,
    reason: str,
    due_at: datetime,
    avoid_trunk: str | None,
) -> Entry | None:
    """Apply the classifier's retry request, or None if it changes nothing.

    An indeterminate/confirm retry carries the next attempt number: it applies when
    that number is newer than the entry's, or equal while not yet dispatched (a
    non-final verdict may have queued it first). A trunk fault keeps the attempt:
    it applies unless a later probe is already out on another trunk.
    """
    if entry.state == "final" or event_id in entry.retry_events or attempt < entry.attempt:
        return None
    if attempt == entry.attempt:
        if reason == "trunk_fault":
            if entry.state == "outstanding" and entry.trunk != avoid_trunk:
                return None
        elif entry.state == "outstanding":
            return None
    return _queued_again(
        entry,
        due_at,
        reason,
        attempt=attempt,
        avoid_trunk=avoid_trunk,
        retry_events=(*entry.retry_events, event_id)[-_REMEMBERED_RETRIES:],
    )


def after_verdict(
    entry: Entry,
    *,
    attempt: int,
    final: bool,
    now: datetime,
    next_attempt_at: datetime | None,
) -> Entry | None:
    """Apply a verdict, or None if it changes nothing.

    A final verdict closes the lead for good, whichever probe it names (the
    classifier re-emits a lead's final verdict, with the newer probe id, when a
    lead already final there is dialled again). A non-final one closes the probe and
    queues the next attempt at `next_attempt_at` (the classifier's retry event,
    which may come before or after, refines it: other trunk, exact time).
    """
    if entry.state == "final":
        return None
    if final:
        return _closed(entry, now, "final")
    if attempt < entry.attempt or (attempt == entry.attempt and entry.state == "queued"):
        return None  # the retry for a later attempt is already here
    return _queued_again(
        entry, next_attempt_at or now, "verdict", attempt=attempt + 1, avoid_trunk=None
    )
