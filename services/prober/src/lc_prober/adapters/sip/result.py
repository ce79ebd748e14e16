"""The typed, immutable record of one test call: signalling only, no verdict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

EndedBy = Literal["cancelled", "answered", "final", "no_response", "transport_error", "auth_failed"]
MediaFinding = Literal["none", "silence", "ringback", "sit", "announcement", "music"]
SitKind = Literal[
    "intercept", "vacant_code", "no_circuit", "reorder", "ineffective_other", "unknown"
]


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    """One response to our INVITE, as received."""

    code: int
    reason: str
    at_ms: int
    """Milliseconds since the first INVITE was sent."""
    q850_cause: int | None = None
    reason_header: str | None = None
    """Raw Reason header value(s), joined with ', ' when there are several."""
    has_sdp: bool = False
    retry_after: str | None = None
    """Raw Retry-After header value (RFC 3261 20.33), e.g. ``120 (busy);duration=60``."""


@dataclass(frozen=True, slots=True)
class EarlyMedia:
    """What the early media (RTP before answer) sounded like."""

    listened_ms: int
    packets: int
    codec: Literal["PCMU", "PCMA"] | None
    finding: MediaFinding
    sit_kind: SitKind | None = None
    confidence: float = 0.0
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class CallResult:
    """Everything the prober observed during one test call."""

    call_id: str
    number: str
    started_at: datetime
    """UTC time the first INVITE was sent."""
    duration_ms: int
    responses: tuple[ResponseRecord, ...]
    final_code: int | None
    ended_by: EndedBy
    early_media: EarlyMedia | None = None
    error: str | None = None

    @property
    def final(self) -> ResponseRecord | None:
        """The final response (>= 200) that ended the INVITE, if any."""
        for record in reversed(self.responses):
            if record.code >= 200:
                return record
        return None

    @property
    def q850_cause(self) -> int | None:
        """The Q.850 cause of the final response, else of the last response that had one."""
        final = self.final
        if final is not None and final.q850_cause is not None:
            return final.q850_cause
        for record in reversed(self.responses):
            if record.q850_cause is not None:
                return record.q850_cause
        return None

    @property
    def codes(self) -> tuple[int, ...]:
        """Every response code in arrival order."""
        return tuple(r.code for r in self.responses)
