"""Turns a call's record into the `probe.signalling` event. Nothing is decided here."""

from __future__ import annotations

import re

from lc_common.events import EarlyMediaV1, ProbeRequestV1, ProbeSignallingV1, SipResponseV1
from lc_prober.adapters.sip.result import CallResult

# Retry-After = delta-seconds [ comment ] *( SEMI retry-param ) (RFC 3261 20.33).
_DELTA_SECONDS = re.compile(r"^\s*(\d+)\s*(?:\(|;|$)")
# A larger value only has to outlast any retry horizon; this keeps it a sane integer.
_MAX_DELTA_SECONDS = 2**32 - 1


def retry_after_seconds(value: str | None) -> int | None:
    """The delta-seconds of a Retry-After header value; None when absent or malformed."""
    if value is None:
        return None
    match = _DELTA_SECONDS.match(value)
    if match is None:
        return None
    return min(int(match.group(1)), _MAX_DELTA_SECONDS)


def signalling_event(request: ProbeRequestV1, call: CallResult) -> ProbeSignallingV1:
    """The raw signalling of one test call, with the ids of the request it answers."""
    media = call.early_media
    return ProbeSignallingV1(
        account_id=request.account_id,
        batch_id=request.batch_id,
        lead_id=request.lead_id,
        probe_id=request.probe_id,
        e164=request.e164,
        attempt=request.attempt,
        trunk=request.trunk,
        call_id=call.call_id,
        started_at=call.started_at,
        duration_ms=call.duration_ms,
        responses=[
            SipResponseV1(
                code=r.code,
                reason=r.reason,
                at_ms=r.at_ms,
                q850_cause=r.q850_cause,
                reason_header=r.reason_header,
                has_sdp=r.has_sdp,
                retry_after_seconds=retry_after_seconds(r.retry_after),
            )
            for r in call.responses
        ],
        final_code=call.final_code,
        ended_by=call.ended_by,
        early_media=None
        if media is None
        else EarlyMediaV1(
            listened_ms=media.listened_ms,
            packets=media.packets,
            codec=media.codec,
            finding=media.finding,
            sit_kind=media.sit_kind,
            confidence=media.confidence,
            fingerprint=media.fingerprint,
        ),
        error=call.error,
    )
