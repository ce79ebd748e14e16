"""Builders of signalling events for the classifier's tests."""

from __future__ import annotations

import base64
import itertools
import random
import struct
from datetime import UTC, datetime
from typing import Any

from lc_common.events import EarlyMediaV1, ProbeSignallingV1, SipResponseV1

_probe_ids = itertools.count(1)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def response(code: int, cause: int | None = None, reason: str = "", **extra: Any) -> SipResponseV1:
    header = f"Q.850;cause={cause}" if cause is not None else None
    return SipResponseV1(
        code=code, reason=reason, at_ms=100, q850_cause=cause, reason_header=header, **extra
    )


def media(
    finding: str, sit_kind: str | None = None, fingerprint: str | None = None
) -> EarlyMediaV1:
    return EarlyMediaV1(
        listened_ms=3000,
        packets=150,
        codec="PCMU",
        finding=finding,
        sit_kind=sit_kind,
        fingerprint=fingerprint,
    )


def recording(seed: int, length: int = 300) -> list[tuple[int, int]]:
    """Landmarks of a made-up recording: (hash, column) pairs, as the prober makes them."""
    rng = random.Random(seed)
    return sorted(
        ((rng.getrandbits(20), rng.randrange(600)) for _ in range(length)), key=lambda m: m[1]
    )


def wire(marks: list[tuple[int, int]]) -> str:
    """The wire form of landmarks (see lc_prober.adapters.media.fingerprint)."""
    values = [(h << 12) | (t & 0xFFF) for h, t in marks]
    return base64.b64encode(struct.pack(f">{len(values)}I", *values)).decode()


def heard(seed: int, start: int = 100, columns: int = 190) -> str:
    """What a call hears of recording `seed`: a stretch of it, starting anywhere (shifted)."""
    part = [(h, t - start) for h, t in recording(seed) if start <= t < start + columns]
    return wire(part)


NOT_CONNECTED = 1
SWITCHED_OFF = 2
NEVER_HEARD = 3


def signalling(
    *codes: int,
    cause: int | None = None,
    ended_by: str | None = None,
    early: EarlyMediaV1 | None = None,
    lead_id: str = "bat_1:000000001",
    probe_id: str | None = None,
    attempt: int = 1,
    trunk: str = "alpha",
    started_at: datetime = T0,
    error: str | None = None,
    reason: str = "",
    retry_after: int | None = None,
) -> ProbeSignallingV1:
    """A call whose responses carry `codes` in order; the last >= 200 is final (with `cause`).

    `ended_by` defaults to what the codes imply: answered for 200, cancelled
    (with 487) when only provisional codes are given, final otherwise.
    """
    final = next((c for c in reversed(codes) if c >= 200), None)
    responses = [response(c) for c in codes if c < 200]
    if ended_by is None:
        ended_by = "answered" if final == 200 else "final" if final else "cancelled"
    if final is not None:
        responses.append(response(final, cause, reason, retry_after_seconds=retry_after))
    elif ended_by == "cancelled":
        final = 487
        responses.append(response(487))
    return ProbeSignallingV1(
        account_id="acc_1",
        batch_id="bat_1",
        lead_id=lead_id,
        probe_id=probe_id or f"prb_{next(_probe_ids)}",
        e164="+61255501234",
        attempt=attempt,
        trunk=trunk,
        call_id="call-1",
        started_at=started_at,
        duration_ms=1200,
        responses=responses,
        final_code=final,
        ended_by=ended_by,
        early_media=early,
        error=error,
    )
