"""Voices in early media through the real process, with the simulator's announcement library."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from classifier_support import ClassifierProcess, Topics
from test_classifier_service import call, retries, send, verdicts

from lc_carrier_sim import audio
from lc_common.events import EarlyMediaV1, ProbeSignallingV1
from lc_prober.adapters.media import classify_audio, ulaw_decode

pytestmark = pytest.mark.kafka

LIBRARY = Path(__file__).parents[3] / "sim" / "carrier" / "announcements"


def voice(lead_id: str, probe_id: str, samples: np.ndarray) -> ProbeSignallingV1:
    """183, then what the prober makes of `samples` heard over PCMU for 3 s, then our CANCEL."""
    heard = ulaw_decode(audio.encode(np.tile(samples, 2), 0)[: 8 * 3000])
    finding = classify_audio(heard)
    media = EarlyMediaV1(
        listened_ms=3000,
        packets=150,
        codec="PCMU",
        finding=finding.finding,
        confidence=finding.confidence,
        fingerprint=finding.fingerprint,
    )
    return call(lead_id, probe_id, 100, 183).model_copy(update={"early_media": media})


@pytest.fixture
def classifier(classifier_env: dict[str, str], tmp_path: Path) -> Iterator[ClassifierProcess]:
    """A classifier that knows the simulator's "not connected" message."""
    process = ClassifierProcess(
        {**classifier_env, "LC_CLASSIFIER_ANNOUNCEMENTS_DIR": str(LIBRARY)}, tmp_path
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def test_only_a_recognised_announcement_is_disconnected(
    classifier: ClassifierProcess, kafka_bootstrap: str, isolation: dict[str, str]
) -> None:
    known, unknown, tune = "bat_va:000000001", "bat_va:000000002", "bat_va:000000003"
    async with Topics(kafka_bootstrap, isolation["LC_TOPIC_PREFIX"]) as topics:
        await send(
            topics,
            voice(known, "pk", audio.announcement()),
            voice(unknown, "pu", audio.announcement("switched-off")),
            voice(tune, "pt", audio.caller_tune()),
        )
        await topics.wait_for(
            lambda t: all(verdicts(t, lead) for lead in (known, unknown, tune)), what="verdicts"
        )
    [dead] = verdicts(topics, known)
    assert (dead.status, dead.final) == ("disconnected", True)
    assert dead.evidence.announcement == "carrier-sim-not-connected"
    assert "carrier-sim-not-connected" in dead.detail
    [unclear] = verdicts(topics, unknown)
    assert (unclear.status, unclear.final, unclear.evidence.announcement) == (
        "indeterminate",
        False,
        None,
    )
    assert [r.reason for r in retries(topics, unknown)] == ["indeterminate"]
    [live] = verdicts(topics, tune)
    assert (live.status, live.final, live.evidence.early_media) == ("connected", True, "music")
