"""What early media sounds like: SIT, ringback, silence, announcement (voice) or none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
from numpy.typing import NDArray

from lc_prober.media.goertzel import FRAME_MS, FloatArray, FrameFeatures, frame_features, to_float
from lc_prober.media.sit import SIT_FREQS, SitDetection, band_labels, detect_sit

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


@dataclass(frozen=True, slots=True)
class AudioFinding:
    """The classification of a stretch of audio."""

    finding: Literal["none", "silence", "ringback", "sit", "announcement"]
    confidence: float
    sit: SitDetection | None = None
    detail: str | None = None

    @property
    def sit_kind(self) -> SitKind | None:
        """The SIT kind when the finding is a SIT."""
        return cast(SitKind, self.sit.kind) if self.sit is not None else None


def analyse(samples: NDArray[np.integer] | NDArray[np.floating]) -> FrameFeatures:
    """Frame features with every frequency the detectors need."""
    return frame_features(to_float(samples), ALL_FREQS)


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
    is_voice, voice_conf = detect_announcement(features)
    if is_voice:
        return AudioFinding("announcement", voice_conf)
    return AudioFinding("none", 0.5, detail="unrecognised audio")


def find_sit(samples: NDArray[np.integer] | NDArray[np.floating]) -> SitDetection | None:
    """Only the SIT detector (cheap enough to run while listening)."""
    x = to_float(samples)
    return detect_sit(x, frame_features(x, ALL_FREQS))
