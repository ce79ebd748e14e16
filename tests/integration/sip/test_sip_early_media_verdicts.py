"""Early media from the carrier simulator, heard by the prober, judged by the classifier.

Issue 13: a voice or music without a SIT is never `disconnected` on its own. Each case is a
real call (SIP and RTP over loopback) to the simulator; the prober's record becomes the
`probe.signalling` event and the classifier decides with the simulator's library of known
announcements (`sim/carrier/announcements/`), as `LC_CLASSIFIER_ANNOUNCEMENTS_DIR` would.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sip_peers import trunk
from tests.support import until

from lc_carrier_sim import CarrierSimulator, SimTimers
from lc_classifier.announcements import load_library
from lc_classifier.domain import RetryPolicy, decide
from lc_classifier.rules import load_rules
from lc_common.events import ProbeRequestV1
from lc_prober.adapters.sip import CallPolicy, SipTrunkClient
from lc_prober.signalling import signalling_event

pytestmark = [pytest.mark.sip, pytest.mark.timeout(60)]

LIBRARY = Path(__file__).parents[3] / "sim" / "carrier" / "announcements"

# label, simulator rule, early-media finding, (status, final), rule id, announcement named
CASES: list[tuple[str, dict[str, Any], str, tuple[str, bool], str, str | None]] = [
    (
        "known not-connected announcement",
        {"behaviour": "announcement"},
        "announcement",
        ("disconnected", True),
        "announcement-not-connected",
        "carrier-sim-not-connected",
    ),
    (
        "unknown voice message",
        {"behaviour": "announcement", "announcement": "switched-off"},
        "announcement",
        ("indeterminate", False),
        "voice-unrecognised",
        None,
    ),
    (
        "another unknown voice message",
        {"behaviour": "announcement", "announcement": "please-hold"},
        "announcement",
        ("indeterminate", False),
        "voice-unrecognised",
        None,
    ),
    (
        "caller tune",
        {"behaviour": "caller_tune"},
        "music",
        ("connected", True),
        "caller-tune",
        None,
    ),
    (
        "ringback",
        {"behaviour": "ring_early_media"},
        "ringback",
        ("connected", True),
        "ringback",
        None,
    ),
    # A SIT before the same message: the tones decide, and a second call must confirm.
    (
        "SIT then announcement",
        {"behaviour": "intercept"},
        "sit",
        ("disconnected", False),
        "sit-dead",
        None,
    ),
]


def request(number: str, index: int) -> ProbeRequestV1:
    return ProbeRequestV1(
        account_id="acc_sip",
        batch_id="bat_sip",
        lead_id=f"bat_sip:{index:09d}",
        probe_id=f"prb_sip_{index}",
        e164=number,
        attempt=1,
        trunk="sim",
    )


async def test_early_media_verdicts_end_to_end() -> None:
    rules = load_rules().with_announcements(load_library(LIBRARY))
    numbers = {label: f"+614200{i:05d}" for i, (label, *_) in enumerate(CASES)}
    config = {
        "rules": [
            {"match": {"suffix": numbers[label][-6:]}, "delay_ms": [0, 20], **rule}
            for label, rule, *_ in CASES
        ]
    }
    async with CarrierSimulator(config, timers=SimTimers(t1=0.05, t2=0.4)) as sim:
        policy = CallPolicy(early_media_seconds=3.0)
        async with SipTrunkClient(trunk(sim.port, policy=policy)) as client:
            results = await asyncio.gather(*(client.call(numbers[label]) for label, *_ in CASES))
        await until(lambda: sim.stats.active == 0)
    now = datetime.now(UTC)
    for i, ((label, _, finding, (status, final), rule_id, named), result) in enumerate(
        zip(CASES, results, strict=True)
    ):
        event = signalling_event(request(numbers[label], i), result)
        assert event.early_media is not None, label
        assert event.early_media.finding == finding, label
        decision = decide(None, event, rules, RetryPolicy(), now)
        verdict = decision.verdict
        assert verdict is not None, label
        assert (verdict.status, verdict.final) == (status, final), label
        assert decision.observation is not None and decision.observation.rule_id == rule_id, label
        assert verdict.evidence.announcement == named, label
        if named:
            assert named in verdict.detail, label
        if status == "indeterminate":
            assert decision.retry is not None and decision.retry.reason == "indeterminate", label
