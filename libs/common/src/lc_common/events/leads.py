"""Events about leads: accepted at import, and their verdicts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from lc_common.events.base import Event, LeadEvent
from lc_common.events.types import E164, Attempt, Identifier, Q850Cause, ShortText, SipCode

LeadStatus = Literal["connected", "disconnected", "indeterminate"]

#: An ISO 3166 region code as phonenumbers uses them (`AU`).
Region = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class LeadAcceptedV1(LeadEvent):
    """A lead with a valid, non-duplicate number, ready to be tested (topic `leads.accepted`)."""

    schema_version: Literal[1] = 1
    e164: E164
    region: Region | None = None


class Evidence(BaseModel):
    """What a verdict rests on, kept with the lead so a client can prove it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    trunk: Identifier
    codes: list[SipCode] = Field(max_length=64)
    q850_cause: Q850Cause | None = None
    early_media: ShortText | None = None
    sit_kind: ShortText | None = None
    # The known announcement (library id) the early media was recognised as, if any.
    announcement: ShortText | None = None
    tested_at: datetime


class LeadVerdictV1(LeadEvent):
    """The classifier's judgement of one attempt (topic `lead.verdicts`).

    `final` is true exactly once per lead; a non-final verdict means a retry is
    due at `next_attempt_at`. `chargeable` is meaningful on a final verdict only:
    true when the lead costs a unit, false when no attempt ever reached the
    network (every one met a trunk fault), which is never charged.
    """

    schema_version: Literal[1] = 1
    probe_id: Identifier
    attempt: Attempt
    status: LeadStatus
    final: bool
    detail: ShortText
    confidence: int = Field(ge=0, le=100)
    evidence: Evidence
    next_attempt_at: datetime | None = None
    chargeable: bool = False


class DispatchedLead(BaseModel):
    """One lead whose probe request went out: which attempt is being tested now."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    lead_id: Identifier
    attempt: Attempt


class LeadsDispatchedV1(Event):
    """Leads of one batch whose probe requests the scheduler just sent (topic `leads.dispatched`).

    One event per batch per dispatch round, so a lead can show `testing` while its
    call is under way; the verdict that follows supersedes it.
    """

    schema_version: Literal[1] = 1
    account_id: Identifier
    batch_id: Identifier
    leads: list[DispatchedLead] = Field(max_length=100_000)

    @model_validator(mode="after")
    def _leads_in_batch(self) -> Self:
        # As LeadEvent's rule: a lead of another batch (another account's) is refused here.
        prefix = f"{self.batch_id}:"
        if any(not lead.lead_id.startswith(prefix) for lead in self.leads):
            raise ValueError("every lead_id must be '<batch_id>:<row>' of the event's batch")
        return self
