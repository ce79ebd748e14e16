"""The signalling event carries each response's Retry-After (RFC 3261 20.33) as seconds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lc_common.events import ProbeRequestV1, ProbeSignallingV1
from lc_prober.adapters.sip.result import CallResult, ResponseRecord
from lc_prober.signalling import retry_after_seconds, signalling_event


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120),
        (" 18000;duration=3600", 18000),
        ("120 (I'm in a meeting)", 120),
        ("300(busy)", 300),
        ("0", 0),
        ("99999999999999", 2**32 - 1),
        (None, None),
        ("", None),
        ("soon", None),
        ("Fri, 31 Dec 1999 23:59:59 GMT", None),
        ("-5", None),
        ("12x", None),
    ],
)
def test_retry_after_seconds(header: str | None, seconds: int | None) -> None:
    assert retry_after_seconds(header) == seconds


def test_the_event_carries_it_per_response() -> None:
    request = ProbeRequestV1(
        account_id="acc_1",
        batch_id="bat_1",
        lead_id="bat_1:000000001",
        probe_id="prb_1",
        e164="+61255501234",
        attempt=1,
        trunk="alpha",
    )
    call = CallResult(
        call_id="c1",
        number="+61255501234",
        started_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
        duration_ms=400,
        responses=(
            ResponseRecord(code=100, reason="Trying", at_ms=10),
            ResponseRecord(code=503, reason="Service Unavailable", at_ms=90, retry_after="600"),
        ),
        final_code=503,
        ended_by="final",
    )
    event = signalling_event(request, call)
    assert [r.retry_after_seconds for r in event.responses] == [None, 600]
    # On the wire and back: an optional field of the same schema version.
    again = ProbeSignallingV1.model_validate_json(event.to_bytes())
    assert again.responses[1].retry_after_seconds == 600
    assert again.schema_version == 1
