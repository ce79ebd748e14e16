"""Every row of DESIGN.md section 2's verdict table as signalling from the carrier simulator.

The prober decides nothing; these tests show it observes each signal the classifier's
rules read (code, Q.850 cause, early-media finding; a voice or music also carries its
fingerprint, test_sip_early_media_verdicts judges it). Rows with their own tests elsewhere:
Timer B / no final answer (test_no_response_ends_at_timer_b), 401 and 407 not satisfied
(test_digest_auth, test_sip_uac_sipp), 503 Q.850 34 from a channel overrun
(test_channel_limit_answers_503_with_cause_34).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sip_peers import trunk
from tests.support import until

from lc_carrier_sim import CarrierSimulator, SimTimers
from lc_prober.adapters.sip import CallPolicy, SipTrunkClient

pytestmark = [pytest.mark.sip, pytest.mark.timeout(60)]

Row = tuple[str, dict[str, Any], tuple[int, ...], int | None, str | None]


def reject(code: int, cause: int | None = None) -> dict[str, Any]:
    return {"behaviour": "reject", "code": code, "reason_q850": cause}


ROWS: list[Row] = [
    # connected
    ("180", {"behaviour": "ring"}, (100, 180, 487), None, None),
    ("183 ringback", {"behaviour": "ring_early_media"}, (100, 183, 487), None, "ringback"),
    ("200", {"behaviour": "answer"}, (100, 180, 200), None, None),
    ("486", {"behaviour": "busy"}, (100, 486), None, None),
    ("600", reject(600), (100, 600), None, None),
    ("Q.850 17", {"behaviour": "busy", "reason_q850": 17}, (100, 486), 17, None),
    ("Q.850 19", reject(480, 19), (100, 480), 19, None),
    ("Q.850 20", reject(480, 20), (100, 480), 20, None),
    ("603", {"behaviour": "decline"}, (100, 603), None, None),
    # disconnected
    ("404", {"behaviour": "not_found"}, (100, 404), None, None),
    ("410", {"behaviour": "gone"}, (100, 410), None, None),
    ("604", reject(604), (100, 604), None, None),
    ("Q.850 1", reject(404, 1), (100, 404), 1, None),
    ("Q.850 22", {"behaviour": "gone", "reason_q850": 22}, (100, 410), 22, None),
    ("484", {"behaviour": "address_incomplete"}, (100, 484), None, None),
    ("Q.850 28", reject(484, 28), (100, 484), 28, None),
    (
        "SIT vacant",
        {"behaviour": "intercept", "sit_kind": "vacant_code"},
        (100, 183, 487),
        None,
        "sit",
    ),
    ("SIT intercept", {"behaviour": "intercept"}, (100, 183, 487), None, "sit"),
    ("announcement", {"behaviour": "announcement"}, (100, 183, 487), None, "announcement"),
    (
        "unknown voice",
        {"behaviour": "announcement", "announcement": "switched-off"},
        (100, 183, 487),
        None,
        "announcement",
    ),
    ("caller tune", {"behaviour": "caller_tune"}, (100, 183, 487), None, "music"),
    # indeterminate
    ("408", reject(408), (100, 408), None, None),
    ("480", {"behaviour": "unavailable"}, (100, 480), None, None),
    ("500", reject(500), (100, 500), None, None),
    ("502", reject(502), (100, 502), None, None),
    ("503", {"behaviour": "service_unavailable"}, (100, 503), None, None),
    ("504", reject(504), (100, 504), None, None),
    *(
        (f"Q.850 {c}", reject(503 if c in (34, 41, 42, 47) else 480, c), (), c, None)
        for c in (18, 27, 31, 34, 38, 41, 42, 47)
    ),
    (
        "SIT no circuit",
        {"behaviour": "intercept", "sit_kind": "no_circuit"},
        (100, 183, 487),
        None,
        "sit",
    ),
    (
        "SIT reorder",
        {"behaviour": "intercept", "sit_kind": "reorder"},
        (100, 183, 487),
        None,
        "sit",
    ),
    ("403", reject(403), (100, 403), None, None),
    ("Q.850 21", reject(403, 21), (100, 403), 21, None),
]


async def test_every_signal_of_the_verdict_table_is_observed() -> None:
    numbers = {label: f"+614100{i:05d}" for i, (label, *_) in enumerate(ROWS)}
    config = {
        "rules": [
            {"match": {"suffix": numbers[label][-6:]}, "delay_ms": [0, 30], **rule}
            for label, rule, *_ in ROWS
        ]
    }
    async with CarrierSimulator(config, timers=SimTimers(t1=0.05, t2=0.4)) as sim:
        policy = CallPolicy(early_media_seconds=3.0)
        async with SipTrunkClient(trunk(sim.port, policy=policy)) as client:
            results = await asyncio.gather(*(client.call(numbers[label]) for label, *_ in ROWS))
        await until(lambda: sim.stats.active == 0)
    for (label, rule, codes, cause, finding), result in zip(ROWS, results, strict=True):
        expected_codes = codes or (100, rule["code"])
        assert result.codes == expected_codes, label
        assert result.q850_cause == cause, label
        media = result.early_media
        assert (media.finding if media else None) == finding, label
        if label.startswith("SIT "):
            assert media is not None and media.sit_kind == rule.get("sit_kind", "intercept")
        if result.final_code == 487 or 200 in expected_codes:
            assert result.ended_by in ("cancelled", "answered"), label
        else:
            assert result.ended_by == "final", label
