"""Pure rules of a batch's progress: which verdict applies to a lead, how counters move,
which status a pause request or the end of an import leads to, when a batch is finished.

No I/O: the lifecycle and the verdict projector read the documents, ask these
functions, and write what they answer in one conditional write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

FINAL_LEAD_STATES = ("connected", "disconnected", "indeterminate")
OPEN_LEAD_STATES = ("pending", "testing", "retry")
VERDICT_COUNTERS = ("connected", "disconnected", "indeterminate", "retry")
IMPORT_COUNTERS = ("imported", "accepted", "rejected")
COUNTERS = (*IMPORT_COUNTERS, *VERDICT_COUNTERS)

BatchStatus = Literal[
    "importing",
    "queued",
    "running",
    "paused",
    "paused_no_credit",
    "finished",
    "failed",
    "deleted",
]
ACTIVE_STATUSES: tuple[BatchStatus, ...] = ("queued", "running")
PAUSED_STATUSES: tuple[BatchStatus, ...] = ("paused", "paused_no_credit")
# A batch may finish from these (a paused batch whose last calls in flight ended too).
FINISHABLE_STATUSES: tuple[BatchStatus, ...] = (*ACTIVE_STATUSES, *PAUSED_STATUSES)
# Statuses in which the retention clock runs (`retention_from` is set).
RETENTION_STATUSES: tuple[BatchStatus, ...] = ("finished", "failed", *PAUSED_STATUSES)


@dataclass(frozen=True)
class Batch:
    """The part of a stored batch document the rules look at."""

    id: str
    account_id: str
    name: str
    reference: str
    status: BatchStatus
    import_done: bool
    counters: Mapping[str, int]

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Batch:
        """The batch of a stored document (documents older than `import_done` count as
        imported unless they are still importing)."""
        return cls(
            id=doc["_id"],
            account_id=doc["account_id"],
            name=doc["name"],
            reference=doc.get("reference", ""),
            status=doc["status"],
            import_done=bool(doc.get("import_done", doc["status"] != "importing")),
            counters={name: int(doc.get(name, 0)) for name in COUNTERS},
        )

    @property
    def processed(self) -> int:
        """Connected + Disconnected + Indeterminate."""
        return sum(self.counters[c] for c in FINAL_LEAD_STATES)

    @property
    def remaining(self) -> int:
        """Accepted - Processed."""
        return self.counters["accepted"] - self.processed

    @property
    def started(self) -> bool:
        """True once any verdict came in: it resumes as running rather than queued."""
        return any(self.counters[c] for c in VERDICT_COUNTERS)

    @property
    def finishable(self) -> bool:
        """Finished only when the import is complete and every accepted lead is final."""
        return self.import_done and self.status in FINISHABLE_STATUSES and self.remaining == 0


# leads


def counter_of(state: str) -> str | None:
    """The batch counter a lead in this state counts in (None: pending, testing, rejected)."""
    return state if state in VERDICT_COUNTERS else None


def counter_deltas(before: str, after: str) -> dict[str, int]:
    """The `$inc` a lead moving from state `before` to `after` makes on its batch."""
    deltas: dict[str, int] = {}
    old, new = counter_of(before), counter_of(after)
    if old == new:
        return deltas
    if old is not None:
        deltas[old] = -1
    if new is not None:
        deltas[new] = deltas.get(new, 0) + 1
    return deltas


def verdict_is_newer(held_state: str, held_attempts: int, attempt: int, final: bool) -> bool:
    """True if a verdict for `attempt` must be applied to a lead holding this.

    Newer means a later attempt, or the same attempt final over non-final; a final
    or rejected lead never changes. A redelivered non-final verdict is therefore
    stale once the lead moved on (testing its next attempt, or judged again).
    """
    if held_state in FINAL_LEAD_STATES or held_state == "rejected":
        return False
    if attempt > held_attempts:
        return True
    return attempt == held_attempts and final


def state_after_verdict(status: str, final: bool) -> str:
    """The lead's state after a verdict: its status if final, else `retry`."""
    return status if final else "retry"


def evidence_after(
    held: list[dict[str, Any]], attempt: int, probe_id: str, entry: dict[str, Any]
) -> list[dict[str, Any]]:
    """The lead's evidence with this attempt's entry, keyed by (attempt, probe_id): a
    replay adds nothing."""
    if any(e.get("attempt") == attempt and e.get("probe_id") == probe_id for e in held):
        return held
    return [*held, {**entry, "attempt": attempt, "probe_id": probe_id}]


# batches


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


def drifted_counters(batch: Batch, states: Mapping[str, int]) -> dict[str, int]:
    """The verdict counters that differ from the leads' actual states (empty: exact)."""
    actual = {c: states.get(c, 0) for c in VERDICT_COUNTERS}
    return {c: n for c, n in actual.items() if batch.counters[c] != n}


def import_counters(states: Mapping[str, int]) -> dict[str, int]:
    """Imported, Accepted and Rejected from the states of the rows actually stored."""
    imported = sum(states.values())
    rejected = states.get("rejected", 0)
    return {"imported": imported, "accepted": imported - rejected, "rejected": rejected}
