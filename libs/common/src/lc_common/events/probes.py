"""Events about test calls: requests to a trunk, raw signalling, retries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lc_common.events.base import Event


class ProbeRequestV1(Event):
    """Dial this number once on this trunk (topic `probe.requests.<trunk>`).

    `probe_id` is unique per dispatch; a re-dispatch after a trunk fault keeps
    the attempt number but gets a new probe id.
    """

    schema_version: Literal[1] = 1
    account_id: str
    batch_id: str
    lead_id: str
    probe_id: str
    e164: str
    attempt: int
    trunk: str


class SipResponseV1(BaseModel):
    """One SIP response as received.

    `retry_after_seconds` is the delta-seconds of its Retry-After header (RFC 3261
    20.33), when it has one: how long the far end asks us to wait before calling again.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: int
    reason: str
    at_ms: int
    q850_cause: int | None = None
    reason_header: str | None = None
    has_sdp: bool = False
    retry_after_seconds: int | None = Field(None, ge=0)


class EarlyMediaV1(BaseModel):
    """What was heard in early media before the call was cancelled."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    listened_ms: int
    packets: int
    codec: str | None = None
    finding: Literal["none", "silence", "ringback", "sit", "announcement"]
    sit_kind: str | None = None
    confidence: float = 0.0


EndedBy = Literal["cancelled", "answered", "final", "no_response", "transport_error", "auth_failed"]


class ProbeSignallingV1(Event):
    """The raw signalling of one test call; nothing is decided here (topic `probe.signalling`)."""

    schema_version: Literal[1] = 1
    account_id: str
    batch_id: str
    lead_id: str
    probe_id: str
    e164: str
    attempt: int
    trunk: str
    call_id: str
    started_at: datetime
    duration_ms: int
    responses: list[SipResponseV1]
    final_code: int | None = None
    ended_by: EndedBy
    early_media: EarlyMediaV1 | None = None
    error: str | None = None


RetryReason = Literal["indeterminate", "confirm", "trunk_fault"]


class ProbeRetryV1(Event):
    """Test this lead again (topic `probe.retries`).

    `attempt` is the number the next call will carry; a trunk fault keeps the
    attempt number (it was not the lead's fault) and names the trunk to avoid.
    """

    schema_version: Literal[1] = 1
    account_id: str
    batch_id: str
    lead_id: str
    e164: str
    attempt: int
    reason: RetryReason
    not_before: datetime
    avoid_trunk: str | None = None
