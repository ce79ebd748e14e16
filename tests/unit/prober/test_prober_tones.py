"""Tone detectors on synthesized audio: SIT kinds, ringback, silence, noise, voice."""

from __future__ import annotations

import numpy as np
import pytest
from prober_audio import (
    pcm16,
    ringback_au,
    ringback_us,
    silence,
    sit,
    speech_like,
    tone,
    white_noise,
)

from lc_prober.adapters.media import (
    alaw_decode,
    alaw_encode,
    classify_audio,
    ulaw_decode,
    ulaw_encode,
)
from lc_prober.adapters.media.goertzel import block_ratios, goertzel_power, tone_ratio

LOW1, HIGH1, LOW2, HIGH2 = 913.8, 985.2, 1370.6, 1428.5
S, L = 274, 380

SIT_CASES = {
    "intercept": ((LOW1, S), (LOW2, S)),
    "vacant_code": ((HIGH1, L), (LOW2, S)),
    "no_circuit": ((HIGH1, L), (HIGH2, L)),
    "reorder": ((LOW1, S), (HIGH2, L)),
    "ineffective_other": ((HIGH1, S), (HIGH2, S)),
}


def through(codec: str, x: np.ndarray) -> np.ndarray:
    """Pass audio through a G.711 codec as the network would."""
    samples = pcm16(x)
    if codec == "pcmu":
        return ulaw_decode(ulaw_encode(samples))
    return alaw_decode(alaw_encode(samples))


def test_goertzel_recurrence_equals_matrix_form() -> None:
    x = tone((1000.0, 1400.0), 20) + white_noise(20, level=0.01)
    for f in (913.8, 1000.0, 1400.0, 1776.7):
        ref = 2 * goertzel_power(x, f) / (len(x) * float(np.dot(x, x)))
        assert block_ratios(x[None, :], (f,))[0, 0] == pytest.approx(ref, rel=1e-9)


def test_tone_ratio_separates_neighbouring_sit_frequencies() -> None:
    x = tone((HIGH1,), 274)
    assert tone_ratio(x, HIGH1) > 0.95
    assert tone_ratio(x, LOW1) < 0.05


@pytest.mark.parametrize("codec", ["pcmu", "pcma"])
@pytest.mark.parametrize("kind", sorted(SIT_CASES))
@pytest.mark.parametrize("lead_ms", [0, 37, 113])
def test_sit_kinds_followed_by_speech(codec: str, kind: str, lead_ms: int) -> None:
    first, second = SIT_CASES[kind]
    x = np.concatenate([silence(lead_ms), sit(first, second), silence(100), speech_like(2500)])
    finding = classify_audio(through(codec, x))
    assert finding.finding == "sit"
    assert finding.sit_kind == kind
    assert finding.confidence > 0.8


def test_sit_after_ringback_still_wins() -> None:
    x = np.concatenate([ringback_au(1200), sit(*SIT_CASES["vacant_code"]), speech_like(1000)])
    finding = classify_audio(through("pcmu", x))
    assert (finding.finding, finding.sit_kind) == ("sit", "vacant_code")


def test_itu_sit_is_a_sit_of_unknown_kind() -> None:
    x = np.concatenate([tone((950.0,), 330), tone((1400.0,), 330), tone((1800.0,), 330)])
    finding = classify_audio(through("pcma", x))
    assert (finding.finding, finding.sit_kind) == ("sit", "unknown")


def test_two_tones_are_not_a_sit() -> None:
    x = np.concatenate([tone((LOW1,), S), tone((LOW2,), S), silence(1000)])
    assert classify_audio(through("pcmu", x)).finding != "sit"


@pytest.mark.parametrize("codec", ["pcmu", "pcma"])
@pytest.mark.parametrize(("audio", "family"), [(ringback_au, "au"), (ringback_us, "us")])
def test_ringback(codec: str, audio, family: str) -> None:  # type: ignore[no-untyped-def]
    finding = classify_audio(through(codec, audio(4000)))
    assert finding.finding == "ringback"
    assert finding.detail == family
    assert finding.confidence >= 0.9


def test_steady_tone_is_at_most_a_weak_ringback() -> None:
    finding = classify_audio(through("pcmu", tone((425.0,), 4000)))
    assert finding.finding == "ringback"
    assert finding.confidence < 0.7


@pytest.mark.parametrize("codec", ["pcmu", "pcma"])
def test_silence(codec: str) -> None:
    finding = classify_audio(through(codec, silence(3000) + white_noise(3000, level=1e-4)))
    assert finding.finding == "silence"


def test_white_noise_is_not_voice() -> None:
    assert classify_audio(through("pcmu", white_noise(3000))).finding == "none"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_speech_like_audio_is_an_announcement(seed: int) -> None:
    finding = classify_audio(through("pcma", speech_like(3000, seed=seed)))
    assert finding.finding == "announcement"


def test_no_audio() -> None:
    assert classify_audio(np.zeros(0, dtype=np.int16)).finding == "none"
