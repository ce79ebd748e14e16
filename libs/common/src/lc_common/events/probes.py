"""Events about test calls: requests to a trunk, raw signalling, retries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lc_common.events.base import LeadEvent
from lc_common.events.types import (
    E164,
    Attempt,
    Epoch,
    Identifier,
    Q850Cause,
    ShortText,
    SipCallId,
    SipCode,
)


class ProbeRequestV1(LeadEvent):
    """Dial this number once on this trunk (topic `probe.requests.<trunk>`).

    `probe_id` is unique per dispatch; a re-dispatch after a trunk fault keeps
    the attempt number but gets a new probe id. `epoch` is the lease epoch of the
    scheduler leader that dispatched it. A prober never starts the call after
    `expires_at`: by then the scheduler may have dispatched the lead again, and
    one of the two requests must not ring. A request `dispatched_at` or before its
    batch's latest pause is void: never dialled (the scheduler queues it again).
    """

    schema_version: Literal[1] = 1
    probe_id: Identifier
    e164: E164
    attempt: Attempt
    trunk: Identifier
    epoch: Epoch = 0
    expires_at: datetime | None = None
    dispatched_at: datetime | None = None


class SipResponseV1(BaseModel):
    """One SIP response as received.

    `retry_after_seconds` is the delta-seconds of its Retry-After header (RFC 3261
    20.33), when it has one: how long the far end asks us to wait before calling again.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: SipCode
    reason: ShortText
    at_ms: int = Field(ge=0)
    q850_cause: Q850Cause | None = None
    reason_header: ShortText | None = None
    has_sdp: bool = False
    retry_after_seconds: int | None = Field(None, ge=0)


class EarlyMediaV1(BaseModel):
    """What was heard in early media before the call was cancelled."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    listened_ms: int = Field(ge=0)
    packets: int = Field(ge=0)
    codec: ShortText | None = None
    # `announcement` is a voice (recognised or not by the classifier), `music` a caller tune.
    finding: Literal["none", "silence", "ringback", "sit", "announcement", "music"]
    sit_kind: ShortText | None = None
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    # Landmarks of a voice or music (base64, lc_prober.adapters.media.fingerprint), which the
    # classifier matches against its library of known announcements.
    fingerprint: str | None = Field(None, max_length=4096, pattern=r"^[A-Za-z0-9+/]*={0,2}$")


EndedBy = Literal["cancelled", "answered", "final", "no_response", "transport_error", "auth_failed"]


class ProbeSignallingV1(LeadEvent):
    """The raw signalling of one test call; nothing is decided here (topic `probe.signalling`)."""

    schema_version: Literal[1] = 1
    probe_id: Identifier
    e164: E164
    attempt: Attempt
    trunk: Identifier
    call_id: SipCallId
    started_at: datetime
    duration_ms: int = Field(ge=0)
    responses: list[SipResponseV1] = Field(max_length=64)
    final_code: SipCode | None = None
    ended_by: EndedBy
    early_media: EarlyMediaV1 | None = None
    error: ShortText | None = None


RetryReason = Literal["indeterminate", "confirm", "trunk_fault"]


class ProbeRetryV1(LeadEvent):
    """Test this lead again (topic `probe.retries`).

    `attempt` is the number the next call will carry; a trunk fault keeps the
    attempt number (it was not the lead's fault) and names the trunk to avoid.
    """

    schema_version: Literal[1] = 1
    e164: E164
    attempt: Attempt
    reason: RetryReason
    not_before: datetime
    avoid_trunk: Identifier | None = None
