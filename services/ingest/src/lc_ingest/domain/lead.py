"""A lead and the pure rules of its state: which verdict applies, what it changes on the
lead, and by how much it moves its batch's counters (docs/invariants.md I1, I5).

No I/O: the verdict handler reads a `Lead` through the store port, asks
`apply_verdict`, and writes the answer with a compare-and-set on what it read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from lc_common.events import LeadVerdictV1

from .batch import FINAL_LEAD_STATES, VERDICT_COUNTERS

LeadState = Literal[
    "pending", "testing", "retry", "connected", "disconnected", "indeterminate", "rejected"
]


def lead_id(batch_id: str, row: int) -> str:
    """The deterministic id of a lead: batch and data-row number, so ids sort in row order."""
    return f"{batch_id}:{row:09d}"


@dataclass(frozen=True)
class Lead:
    """One row of a batch. Accepted rows start `pending` with their `e164`; rejected ones
    keep `reject_code` and `reject_reason`. Verdicts fill the rest: `attempts` is the last
    attempt judged, `evidence` one entry per (attempt, probe_id); a final lead keeps
    `processed_on`, `finalised_at` and `chargeable`."""

    id: str
    batch_id: str
    account_id: str
    row: int
    cells: tuple[str, ...]
    state: LeadState
    attempts: int = 0
    e164: str | None = None
    region: str | None = None
    line_type: str | None = None
    extension: str | None = None
    reject_code: str | None = None
    reject_reason: str | None = None
    detail: str | None = None
    confidence: int | None = None
    tested_at: datetime | None = None
    next_attempt_at: datetime | None = None
    evidence: tuple[Mapping[str, Any], ...] = ()
    last_probe_id: str | None = None
    processed_on: str | None = None
    finalised_at: datetime | None = None
    chargeable: bool | None = None

    @property
    def final(self) -> bool:
        """True once a final verdict came in: it never changes again."""
        return self.state in FINAL_LEAD_STATES

    def summary(self) -> LeadSummary:
        """What a peer asks about this lead."""
        return LeadSummary(
            self.id,
            self.batch_id,
            self.account_id,
            self.state,
            self.attempts,
            self.e164,
            self.chargeable,
        )


@dataclass(frozen=True)
class LeadSummary:
    """What a peer asks about a lead: whose it is, its state and last attempt; its number
    (scheduler's re-drive) and whether it is chargeable (billing's reconciler)."""

    id: str
    batch_id: str
    account_id: str
    state: LeadState
    attempts: int = 0
    e164: str | None = None
    chargeable: bool | None = None

    @property
    def final(self) -> bool:
        """True once a final verdict came in."""
        return self.state in FINAL_LEAD_STATES


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


def testing_deltas(left: Mapping[str, int]) -> dict[str, int]:
    """The `$inc` on a batch whose leads became `testing`, given how many left each state:
    leads leaving `retry` leave its Retry counter."""
    return {"retry": -left["retry"]} if left.get("retry") else {}


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


def state_after_verdict(status: str, final: bool) -> LeadState:
    """The lead's state after a verdict: its status if final, else `retry`."""
    return status if final else "retry"  # type: ignore[return-value]


def evidence_after(
    held: Sequence[Mapping[str, Any]], attempt: int, probe_id: str, entry: Mapping[str, Any]
) -> tuple[Mapping[str, Any], ...]:
    """The lead's evidence with this attempt's entry, keyed by (attempt, probe_id): a
    replay adds nothing."""
    if any(e.get("attempt") == attempt and e.get("probe_id") == probe_id for e in held):
        return tuple(held)
    return (*held, {**entry, "attempt": attempt, "probe_id": probe_id})


@dataclass(frozen=True)
class VerdictOutcome:
    """What a verdict does to a lead: `applied` (the lead `after`, and the `deltas` its
    batch's counters move by), `duplicate` (the lead is already final or rejected) or
    `stale` (the lead holds a newer verdict)."""

    outcome: Literal["applied", "duplicate", "stale"]
    after: Lead
    deltas: Mapping[str, int]


def apply_verdict(lead: Lead, verdict: LeadVerdictV1) -> VerdictOutcome:
    """The lead after `verdict`, if it is newer than what the lead holds (attempt; same
    attempt: final over non-final; a final lead never changes), and the counter deltas of
    the lead's own change."""
    if lead.final or lead.state == "rejected":
        return VerdictOutcome("duplicate", lead, {})
    if not verdict_is_newer(lead.state, lead.attempts, verdict.attempt, verdict.final):
        return VerdictOutcome("stale", lead, {})
    entry = {**verdict.evidence.model_dump(mode="json"), "detail": verdict.detail}
    after = replace(
        lead,
        state=state_after_verdict(verdict.status, verdict.final),
        attempts=max(verdict.attempt, lead.attempts),
        detail=verdict.detail,
        confidence=verdict.confidence,
        tested_at=verdict.evidence.tested_at,
        next_attempt_at=verdict.next_attempt_at,
        evidence=evidence_after(lead.evidence, verdict.attempt, verdict.probe_id, entry),
        last_probe_id=verdict.probe_id,
    )
    if verdict.final:
        after = replace(
            after,
            processed_on=verdict.occurred_at.date().isoformat(),
            finalised_at=verdict.occurred_at,
            chargeable=verdict.chargeable,
        )
    return VerdictOutcome("applied", after, counter_deltas(lead.state, after.state))
