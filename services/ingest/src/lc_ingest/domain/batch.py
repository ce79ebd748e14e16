"""A batch and the pure rules of its progress: its counters, which status a pause request
or the end of an import leads to, when it is finished, when its retention ran out.

No I/O: the lifecycle reads a `Batch` through the store port, asks these functions,
and writes what they answer in one conditional write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime

from lc_common.events import BatchStatus as BatchStatus  # re-exported for the domain

from .csv_reader import Overrides

FINAL_LEAD_STATES = ("connected", "disconnected", "indeterminate")
OPEN_LEAD_STATES = ("pending", "testing", "retry")
VERDICT_COUNTERS = ("connected", "disconnected", "indeterminate", "retry")
IMPORT_COUNTERS = ("imported", "accepted", "rejected")
COUNTERS = (*IMPORT_COUNTERS, *VERDICT_COUNTERS)

ACTIVE_STATUSES: tuple[BatchStatus, ...] = ("queued", "running")
PAUSED_STATUSES: tuple[BatchStatus, ...] = ("paused", "paused_no_credit")
# A batch may finish from these (a paused batch whose last calls in flight ended too).
FINISHABLE_STATUSES: tuple[BatchStatus, ...] = (*ACTIVE_STATUSES, *PAUSED_STATUSES)
# Statuses in which the retention clock runs (`retention_from` is set).
RETENTION_STATUSES: tuple[BatchStatus, ...] = ("finished", "failed", *PAUSED_STATUSES)


def processed(counts: Mapping[str, int]) -> int:
    """Processed: the leads with a final verdict (Connected + Disconnected + Indeterminate)
    among `counts` (a batch's counters, or a day's final states)."""
    return sum(counts.get(state, 0) for state in FINAL_LEAD_STATES)


@dataclass(frozen=True)
class Counters:
    """A batch's counters (DESIGN.md section 1). `Accepted = Processed + Remaining` and
    `Imported = Accepted + Rejected` at every read."""

    imported: int = 0
    accepted: int = 0
    rejected: int = 0
    connected: int = 0
    disconnected: int = 0
    indeterminate: int = 0
    retry: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters by name (as stored on the batch)."""
        return asdict(self)

    @property
    def processed(self) -> int:
        """Connected + Disconnected + Indeterminate."""
        return processed(self.as_dict())

    @property
    def remaining(self) -> int:
        """Accepted - Processed."""
        return self.accepted - self.processed

    @property
    def started(self) -> bool:
        """True once any verdict came in."""
        return any(getattr(self, name) for name in VERDICT_COUNTERS)


@dataclass(frozen=True)
class Batch:
    """A batch of one account's leads, as ingest keeps it.

    `import_done` records that the import completed; `format_overrides` are the
    format the client chose at upload; `header` ... `phone_column_index` are what
    the import found (empty until it read the file).
    """

    id: str
    account_id: str
    name: str
    status: BatchStatus
    reference: str = ""
    import_done: bool = False
    counters: Counters = field(default_factory=Counters)
    filename: str = ""
    submitted_at: datetime | None = None
    finished_at: datetime | None = None
    retention_from: datetime | None = None
    failure_reason: str | None = None
    phone_column_choice: str = ""
    phone_column: str = ""
    default_region: str = ""
    format_overrides: Overrides = field(default_factory=Overrides)
    upload_path: str = ""
    header: tuple[str, ...] = ()
    delimiter: str = ","

    @property
    def paused(self) -> bool:
        """Paused by the client or waiting for credit."""
        return self.status in PAUSED_STATUSES

    @property
    def processed(self) -> int:
        """Connected + Disconnected + Indeterminate."""
        return self.counters.processed

    @property
    def remaining(self) -> int:
        """Accepted - Processed."""
        return self.counters.remaining

    @property
    def started(self) -> bool:
        """True once any verdict came in: it resumes as running rather than queued."""
        return self.counters.started

    @property
    def finishable(self) -> bool:
        """Finished only when the import is complete and every accepted lead is final."""
        return self.import_done and self.status in FINISHABLE_STATUSES and self.remaining == 0


def received_batch(
    batch_id: str,
    account_id: str,
    *,
    filename: str,
    name: str,
    reference: str,
    phone_column: str,
    default_region: str,
    overrides: Overrides,
    upload_path: str,
    now: datetime,
) -> Batch:
    """A batch whose file was just received, before its import read it: `importing`, every
    counter at zero, named after the file unless given a name; the phone column as chosen
    (blank: to be suggested by the import)."""
    return Batch(
        id=batch_id,
        account_id=account_id,
        name=name or filename,
        status="importing",
        reference=reference,
        filename=filename,
        submitted_at=now,
        phone_column_choice=phone_column,
        phone_column=phone_column,
        default_region=default_region.upper(),
        format_overrides=overrides,
        upload_path=upload_path,
    )


@dataclass(frozen=True)
class Transition:
    """A status change and the batch event that announces it."""

    status: BatchStatus
    kind: str


class PauseRefused(Exception):
    """A pause or unpause the batch's status does not allow, with a code and a sentence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def after_pause_request(batch: Batch, paused: bool) -> Transition | None:
    """The transition a client's pause/unpause asks for; None if there is nothing to do.

    Pausing a paused batch re-announces `paused` (a client's retry heals a lost
    announcement). A batch paused while importing goes on importing; unpaused
    before its import is done, it is importing again.
    """
    status = batch.status
    if paused:
        if status in ("importing", *ACTIVE_STATUSES, "paused"):
            return Transition("paused", "paused")
        if status == "paused_no_credit":
            return None
    else:
        if status == "paused":
            if not batch.import_done:
                return Transition("importing", "resumed")
            return Transition("running" if batch.started else "queued", "resumed")
        if status == "paused_no_credit":
            raise PauseRefused("no_credit", "The batch resumes by itself once credit is bought.")
        if status in ("importing", *ACTIVE_STATUSES):
            return None
    raise PauseRefused("batch_closed", f"A {status} batch cannot be paused or resumed.")


def after_import(batch: Batch, credit_exhausted: bool) -> Transition | None:
    """The transition when the batch's import completes; None if it no longer imports.

    Paused during import it stays paused and says so again (`paused`, not `queued`,
    so the scheduler holds its leads); queued while the account has no credit it
    waits for credit (`credit_paused`).
    """
    if batch.import_done:
        return None
    if batch.status == "importing":
        if credit_exhausted:
            return Transition("paused_no_credit", "credit_paused")
        return Transition("queued", "queued")
    if batch.status == "paused":
        return Transition("paused", "paused")
    return None


def credit_paused() -> Transition:
    """Credit ran out: an active batch waits for credit."""
    return Transition("paused_no_credit", "credit_paused")


def credit_resumed(batch: Batch) -> Transition:
    """Credit is back: a batch that waited for it runs again (queued if never started)."""
    return Transition("running" if batch.started else "queued", "credit_resumed")


def status_fields(batch: Batch, to: Transition, now: datetime) -> dict[str, object]:
    """The fields a transition writes: the status, and the retention clock, which starts
    when the batch enters a paused status (or its pause kind changes) and stops when it
    leaves them."""
    fields: dict[str, object] = {"status": to.status}
    if to.status in PAUSED_STATUSES:
        if batch.status not in PAUSED_STATUSES or to.kind != "paused":
            fields["retention_from"] = now
    else:
        fields["retention_from"] = None
    return fields


def import_completed_fields(batch: Batch, to: Transition, now: datetime) -> dict[str, object]:
    """The fields the end of an import writes: its transition, `import_done`, and for a
    batch that stays paused a retention clock that starts now (the scheduler's too)."""
    fields = {**status_fields(batch, to, now), "import_done": True}
    if to.status == "paused":
        fields["retention_from"] = now
    return fields


def failure_fields(batch: Batch, reason: str, now: datetime) -> dict[str, object] | None:
    """The fields that fail a batch whose file cannot be read; None once its import is
    done or it no longer imports (only an import fails a batch)."""
    if batch.import_done or batch.status not in ("importing", "paused"):
        return None
    return {"status": "failed", "failure_reason": reason, "retention_from": now}


def finish_if_done(
    batch: Batch, states: Mapping[str, int], now: datetime
) -> dict[str, object] | None:
    """The fields that finish the batch, or None while it may not finish: finished only
    when its import is complete and every accepted lead is final, by its counters and by
    its leads' `states` (how many leads are in each state)."""
    if not batch.finishable or any(states.get(s, 0) for s in OPEN_LEAD_STATES):
        return None
    return {"status": "finished", "finished_at": now, "retention_from": now}


class NotExpired(Exception):
    """The batch's retention has not run out (or it was resumed meanwhile)."""


def deletion_fields(batch: Batch, expired_before: datetime, now: datetime) -> dict[str, object]:
    """The fields that delete a batch whose retention started before `expired_before`;
    raises `NotExpired` for a batch whose retention clock does not run or started later."""
    started = batch.retention_from
    if batch.status not in RETENTION_STATUSES or started is None or started >= expired_before:
        raise NotExpired(batch.id)
    return {"status": "deleted", "deleted_at": now}


def drifted_counters(batch: Batch, states: Mapping[str, int]) -> dict[str, int]:
    """The verdict counters that differ from the leads' actual states (empty: exact)."""
    held = batch.counters.as_dict()
    actual = {c: states.get(c, 0) for c in VERDICT_COUNTERS}
    return {c: n for c, n in actual.items() if held[c] != n}
