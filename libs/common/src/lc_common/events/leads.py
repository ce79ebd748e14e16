"""Events about leads: accepted at import, and their verdicts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from lc_common.events.base import Event

LeadStatus = Literal["connected", "disconnected", "indeterminate"]


class LeadAcceptedV1(Event):
    """A lead with a valid, non-duplicate number, ready to be tested (topic `leads.accepted`)."""

    schema_version: Literal[1] = 1
    account_id: str
    batch_id: str
    lead_id: str
    e164: str
    region: str | None = None


class Evidence(BaseModel):
    """What a verdict rests on, kept with the lead so a client can prove it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    trunk: str
    codes: list[int]
    q850_cause: int | None = None
    early_media: str | None = None
    sit_kind: str | None = None
    tested_at: datetime


class LeadVerdictV1(Event):
    """The classifier's judgement of one attempt (topic `lead.verdicts`).

    `final` is true exactly once per lead; a non-final verdict means a retry is
    due at `next_attempt_at`.
    """

    schema_version: Literal[1] = 1
    account_id: str
    batch_id: str
    lead_id: str
    probe_id: str
    attempt: int
    status: LeadStatus
    final: bool
    detail: str
    confidence: int
    evidence: Evidence
    next_attempt_at: datetime | None = None


class DispatchedLead(BaseModel):
    """One lead whose probe request went out: which attempt is being tested now."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    lead_id: str
    attempt: int


class LeadsDispatchedV1(Event):
    """Leads of one batch whose probe requests the scheduler just sent (topic `leads.dispatched`).

    One event per batch per dispatch round, so a lead can show `testing` while its
    call is under way; the verdict that follows supersedes it.
    """

    schema_version: Literal[1] = 1
    account_id: str
    batch_id: str
    leads: list[DispatchedLead]
