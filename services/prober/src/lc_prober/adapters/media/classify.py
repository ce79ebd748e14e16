"""What early media sounds like: SIT, ringback, silence, music, announcement (voice) or none.

Voice and music are not judged here: a voice may be a "not connected" message or a live
line's "switched off" or "please hold", so their fingerprint goes with the finding and the
classifier recognises (or not) the announcement against its library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
from numpy.typing import NDArray

from lc_prober.adapters.media.fingerprint import fingerprint
from lc_prober.adapters.media.goertzel import (
    FRAME_MS,
    FloatArray,
    FrameFeatures,
    frame_features,
    to_float,
)
from lc_prober.adapters.media.sit import SIT_FREQS, SitDetection, band_labels, detect_sit

SitKind = Literal[
    "intercept", "vacant_code", "no_circuit", "reorder", "ineffective_other", "unknown"
]
RINGBACK_FREQS: tuple[float, ...] = (400.0, 425.0, 450.0, 440.0, 480.0)
ALL_FREQS: tuple[float, ...] = SIT_FREQS + RINGBACK_FREQS

SILENCE_DB = -50.0
_RING_BAND_SHARE = 0.7
_MIN_RING_MS = 350
_ANNOUNCEMENT_FLATNESS = 0.5
_ANNOUNCEMENT_LEVEL_SPREAD_DB = 3.0
_MUSIC_FRAME = 320  # 40 ms: fine enough in frequency to see a note's partials
_MUSIC_PEAK_DB = 20.0
_MUSIC_TONAL_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class AudioFinding:
    """The classification of a stretch of audio."""

    finding: Literal["none", "silence", "ringback", "sit", "announcement", "music"]
    confidence: float
    sit: SitDetection | None = None
    detail: str | None = None
    fingerprint: str | None = None
    """Landmarks of a voice, music or unrecognised audio (`adapters.media.fingerprint`)."""

    @property
    def sit_kind(self) -> SitKind | None:
        """The SIT kind when the finding is a SIT."""
        return cast(SitKind, self.sit.kind) if self.sit is not None else None


def _runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first frame, length) of the runs of True."""
    runs: list[tuple[int, int]] = []
    start = -1
    for i, value in enumerate(mask.tolist()):
        if value and start < 0:
            start = i
        elif not value and start >= 0:
            runs.append((start, i - start))
            start = -1
    if start >= 0:
        runs.append((start, len(mask) - start))
    return runs


def detect_ringback(features: FrameFeatures) -> tuple[bool, float, str | None]:
    """(is ringback, confidence, family) from ring-band tone frames and their cadence."""
    loud = features.rms_db >= SILENCE_DB
    ring = loud & (features.ring_band >= _RING_BAND_SHARE) & (band_labels(features) == 0)
    ring_frames = int(ring.sum())
    if ring_frames * FRAME_MS < _MIN_RING_MS or ring_frames < 0.6 * max(int(loud.sum()), 1):
        return False, 0.0, None
    us = features.ratio(440.0)[ring] + features.ratio(480.0)[ring]
    au = features.ratio(400.0)[ring] + features.ratio(425.0)[ring] + features.ratio(450.0)[ring]
    family = "us" if float(np.mean(us)) > float(np.mean(au)) else "au"
    # AU/UK: 0.4 s on, 0.2 s off, 0.4 s on, 2 s off; US: 2 s on, 4 s off. A burst cut by
    # the start or end of listening only has to be no longer than expected.
    expected, tolerance = (400, 100) if family == "au" else (2000, 200)
    runs = _runs_of(ring)
    matching = 0
    for start, length in runs:
        ms = length * FRAME_MS
        cut = start == 0 or start + length >= len(ring) - 1
        if abs(ms - expected) <= tolerance or (cut and ms <= expected + tolerance):
            matching += 1
    cadence = matching / len(runs)
    confidence = 0.6 + 0.35 * cadence
    return True, round(confidence, 3), family


def _flatness(spectrum: FloatArray) -> float:
    spec = spectrum[1:] + 1e-20
    return float(np.exp(np.mean(np.log(spec))) / np.mean(spec))


def detect_announcement(features: FrameFeatures) -> tuple[bool, float]:
    """Voice-like audio: not tonal, spectrally coloured, with syllabic level changes."""
    loud = features.rms_db >= SILENCE_DB
    if loud.sum() < 0.25 * max(len(loud), 1) or loud.sum() * FRAME_MS < 500:
        return False, 0.0
    flatness = _flatness(features.spectrum)
    spread = float(np.std(features.rms_db[loud]))
    if flatness < _ANNOUNCEMENT_FLATNESS and spread >= _ANNOUNCEMENT_LEVEL_SPREAD_DB:
        confidence = min(0.9, 0.5 + (spread - _ANNOUNCEMENT_LEVEL_SPREAD_DB) / 20.0)
        return True, round(confidence, 3)
    return False, 0.0


def detect_music(x: FloatArray) -> tuple[bool, float]:
    """Music (a caller tune): most loud frames hold a strong partial that lasts several frames.

    Speech and noise spread their energy; a note puts it in a few bins that stay put.
    """
    count = len(x) // _MUSIC_FRAME
    if count < 5:
        return False, 0.0
    frames = x[: count * _MUSIC_FRAME].reshape(count, _MUSIC_FRAME) * np.hanning(_MUSIC_FRAME)
    spec = np.abs(np.fft.rfft(frames, axis=1)[:, 8:140]) ** 2  # 200-3500 Hz
    level = 10.0 * np.log10(np.maximum(np.mean(frames**2, axis=1), 1e-12))
    loud = level >= SILENCE_DB
    if loud.sum() < 5:
        return False, 0.0
    peak_db = 10.0 * np.log10(
        np.maximum(spec.max(axis=1) / np.maximum(np.median(spec, axis=1), 1e-20), 1e-12)
    )
    top = spec.argmax(axis=1)
    steady = np.zeros(count, dtype=bool)
    steady[1:-1] = (np.abs(top[1:-1] - top[:-2]) <= 1) | (np.abs(top[1:-1] - top[2:]) <= 1)
    tonal = loud & (peak_db >= _MUSIC_PEAK_DB) & steady
    share = float(tonal.sum() / loud.sum())
    if share < _MUSIC_TONAL_SHARE:
        return False, 0.0
    return True, round(min(0.9, 0.4 + share / 2), 3)


def classify_audio(samples: NDArray[np.integer] | NDArray[np.floating]) -> AudioFinding:
    """Classify early-media audio; a SIT anywhere wins, then ringback, silence, voice."""
    x = to_float(samples)
    features = frame_features(x, ALL_FREQS)
    if len(features.rms_db) == 0:
        return AudioFinding("none", 0.0, detail="no audio")
    sit = detect_sit(x, features)
    if sit is not None:
        return AudioFinding("sit", sit.confidence, sit=sit)
    is_ring, ring_conf, family = detect_ringback(features)
    if is_ring:
        return AudioFinding("ringback", ring_conf, detail=family)
    silent_share = float(np.mean(features.rms_db < SILENCE_DB))
    if silent_share >= 0.9:
        return AudioFinding("silence", round(silent_share, 3))
    is_music, music_conf = detect_music(x)
    if is_music:
        return AudioFinding("music", music_conf, fingerprint=fingerprint(x))
    is_voice, voice_conf = detect_announcement(features)
    if is_voice:
        return AudioFinding("announcement", voice_conf, fingerprint=fingerprint(x))
    return AudioFinding("none", 0.5, detail="unrecognised audio", fingerprint=fingerprint(x))


def find_sit(samples: NDArray[np.integer] | NDArray[np.floating]) -> SitDetection | None:
    """Only the SIT detector (cheap enough to run while listening)."""
    x = to_float(samples)
    return detect_sit(x, frame_features(x, ALL_FREQS))
