"""Landmark fingerprints of early media: robust to G.711 and to where listening began,
and telling one recording from another (matched by the classifier's library)."""

from __future__ import annotations

import numpy as np
import pytest

from lc_carrier_sim import audio
from lc_classifier.announcements import AnnouncementEntry, AnnouncementLibrary
from lc_prober.adapters.media import alaw_decode, classify_audio, ulaw_decode
from lc_prober.adapters.media.fingerprint import MAX_HASHES, decode, encode, fingerprint, landmarks


def heard(samples: np.ndarray, payload_type: int, start_ms: int, ms: int = 3000) -> np.ndarray:
    """What the prober decodes of a looping clip, joined `start_ms` into it."""
    data = audio.encode(np.tile(samples, 4), payload_type)
    chunk = data[8 * start_ms : 8 * (start_ms + ms)]
    return (ulaw_decode if payload_type == 0 else alaw_decode)(chunk)


@pytest.fixture(scope="module")
def library() -> AnnouncementLibrary:
    reference = fingerprint(np.tile(audio.announcement(), 2), limit=None)
    assert reference is not None
    return AnnouncementLibrary([AnnouncementEntry(id="not-connected", fingerprint=reference)])


@pytest.mark.parametrize("payload_type", [0, 8], ids=["PCMU", "PCMA"])
@pytest.mark.parametrize("start_ms", [0, 733, 2500, 4100])
def test_the_known_message_is_recognised_wherever_listening_began(
    library: AnnouncementLibrary, payload_type: int, start_ms: int
) -> None:
    finding = classify_audio(heard(audio.announcement(), payload_type, start_ms))
    assert finding.finding == "announcement"
    match = library.recognise(finding.fingerprint)
    assert match is not None and match.id == "not-connected"


@pytest.mark.parametrize("name", ["switched-off", "please-hold", "out-of-range", "welcome"])
@pytest.mark.parametrize("start_ms", [0, 1900])
def test_other_voices_are_not_recognised(
    library: AnnouncementLibrary, name: str, start_ms: int
) -> None:
    finding = classify_audio(heard(audio.announcement(name), 0, start_ms))
    assert finding.finding == "announcement"
    assert finding.fingerprint is not None
    assert library.recognise(finding.fingerprint) is None


@pytest.mark.parametrize("start_ms", [0, 610])
def test_a_caller_tune_is_music(library: AnnouncementLibrary, start_ms: int) -> None:
    finding = classify_audio(heard(audio.caller_tune(), 8, start_ms))
    assert finding.finding == "music"
    assert library.recognise(finding.fingerprint) is None


def test_ringback_and_sit_are_not_music() -> None:
    assert classify_audio(heard(audio.ringback("au"), 0, 0)).finding == "ringback"
    assert classify_audio(heard(audio.ringback("us"), 0, 0)).finding == "ringback"
    assert classify_audio(heard(audio.intercept_announcement("intercept"), 0, 0)).finding == "sit"


def test_the_wire_form_round_trips_and_is_bounded() -> None:
    marks = landmarks(audio.announcement())
    assert marks and decode(encode(marks, None)) == [(h, t & 0xFFF) for h, t in marks]
    long = landmarks(np.tile(audio.announcement("long"), 6))
    assert len(long) > MAX_HASHES
    assert len(decode(encode(long))) == MAX_HASHES
    assert len(encode(long)) <= 4096  # EarlyMediaV1.fingerprint's bound


def test_silence_has_no_fingerprint() -> None:
    assert fingerprint(np.zeros(8000 * 3)) is None
