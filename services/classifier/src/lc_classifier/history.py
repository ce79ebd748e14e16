"""A lead's attempt history, as the classifier keeps it (the table's value, keyed by lead id).

Plain pydantic models, no I/O: what each call of the lead showed, the final verdict
once there is one (to publish it again), and what makes a lead chargeable.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from lc_classifier.rules import Status
from lc_common.events import Evidence, LeadStatus


class AttemptRecord(BaseModel):
    """One call of a lead, as kept in the history table."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    probe_id: str
    attempt: int
    trunk: str
    outcome: Status
    rule_id: str
    detail: str
    confidence: int
    needs_confirm: bool = False
    codes: list[int]
    q850_cause: int | None = None
    early_media: str | None = None
    sit_kind: str | None = None
    announcement: str | None = None
    tested_at: datetime

    def evidence(self) -> Evidence:
        """The evidence a verdict resting on this call carries."""
        return Evidence(
            trunk=self.trunk,
            codes=self.codes,
            q850_cause=self.q850_cause,
            early_media=self.early_media,
            sit_kind=self.sit_kind,
            announcement=self.announcement,
            tested_at=self.tested_at,
        )


class LeadHistory(BaseModel):
    """Everything the classifier knows of one lead (the table's value, keyed by lead id)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    lead_id: str
    attempts: list[AttemptRecord] = []
    final_status: LeadStatus | None = None
    # The final verdict as published, to publish it again (absent in older entries).
    final_detail: str | None = None
    final_confidence: int | None = None
    final_evidence: Evidence | None = None
    # Where and when it was last written: what pruning needs (absent in older entries).
    batch_id: str | None = None
    partition: int | None = None
    updated_at: datetime | None = None

    @property
    def touched_at(self) -> datetime | None:
        """When the history last changed: its own stamp, else its latest call."""
        if self.updated_at is not None:
            return self.updated_at
        return max((r.tested_at for r in self.attempts), default=None)

    @property
    def first_at(self) -> datetime | None:
        """When the lead was first dialled."""
        return min((r.tested_at for r in self.attempts), default=None)

    def seen(self, probe_id: str) -> bool:
        return any(r.probe_id == probe_id for r in self.attempts)

    def decided_attempts(self) -> set[int]:
        return {r.attempt for r in self.attempts if r.outcome != "trunk_fault"}

    def pending_confirmation(self) -> AttemptRecord | None:
        """The disconnected attempt still waiting for its confirmation, if any."""
        for record in reversed(self.attempts):
            if record.outcome == "trunk_fault":
                continue
            if record.outcome == "disconnected" and record.needs_confirm:
                return record
            if record.outcome != "indeterminate":
                return None
        return None

    def trunk_faults(self, attempt: int) -> int:
        return sum(1 for r in self.attempts if r.attempt == attempt and r.outcome == "trunk_fault")

    @property
    def chargeable(self) -> bool:
        """Whether any call of the lead reached the network (see `reached_network`)."""
        return any(reached_network(r) for r in self.attempts)


def reached_network(record: AttemptRecord) -> bool:
    """A call that tested the number: not a trunk fault (credentials refused, our own
    overrun, a transport error) and not a call the trunk never answered at all."""
    return record.outcome != "trunk_fault" and bool(record.codes)
