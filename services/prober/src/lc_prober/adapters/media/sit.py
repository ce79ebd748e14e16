"""Special Information Tone detection and classification (Telcordia/ANSI T1.209 SIT codes).

A SIT is three tones in sequence: ~913.8 or 985.2 Hz, then ~1370.6 or 1428.5 Hz, then
1776.7 Hz; the first two are short (274 ms) or long (380 ms). Their frequency and
length pairs encode why the call failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lc_prober.adapters.media.goertzel import FRAME, FRAME_MS, FloatArray, FrameFeatures, tone_ratio

LOW1, HIGH1 = 913.8, 985.2
LOW2, HIGH2 = 1370.6, 1428.5
THIRD = 1776.7
# ITU-T E.180 SIT (950/1400/1800 Hz), used outside North America; it has no kind.
ITU1, ITU2, ITU3 = 950.0, 1400.0, 1800.0

BAND_FREQS: tuple[tuple[float, ...], ...] = (
    (LOW1, HIGH1, ITU1),
    (LOW2, HIGH2, ITU2),
    (THIRD, ITU3),
)
SIT_FREQS: tuple[float, ...] = tuple(f for band in BAND_FREQS for f in band)

SHORT_MS, LONG_MS = 274, 380
_SPLIT_MS = 330  # between short and long, allowing for frame quantisation
_MIN_SEG_MS, _MAX_SEG_MS = 180, 480
_MIN_THIRD_MS = 200
_TONE_RATIO = 0.6
_MIN_LEVEL_DB = -45.0
_MAX_GAP_FRAMES = 2

# (first frequency, first long?), (second frequency, second long?) -> kind
_KINDS: dict[tuple[float, bool, float, bool], str] = {
    (LOW1, False, LOW2, False): "intercept",
    (HIGH1, True, LOW2, False): "vacant_code",
    (HIGH1, True, HIGH2, True): "no_circuit",
    (LOW1, True, LOW2, True): "no_circuit",
    (LOW1, False, HIGH2, True): "reorder",
    (HIGH1, False, LOW2, True): "reorder",
    (HIGH1, False, HIGH2, False): "ineffective_other",
}


@dataclass(frozen=True, slots=True)
class SitSegment:
    """One tone of a SIT as measured."""

    freq: float
    duration_ms: int
    strength: float


@dataclass(frozen=True, slots=True)
class SitDetection:
    """A detected SIT: its kind, segments, confidence and where it ended."""

    kind: str
    segments: tuple[SitSegment, SitSegment, SitSegment]
    confidence: float
    end_ms: int


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(label, first frame, length) of consecutive equal labels, skipping label 0."""
    runs: list[tuple[int, int, int]] = []
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            if labels[start] != 0:
                runs.append((int(labels[start]), start, i - start))
            start = i
    return runs


def _segment(
    samples: FloatArray, band: int, start: int, length: int, strength: float
) -> SitSegment:
    # Frequency is refined over the whole segment: 20 ms frames cannot tell 913.8 from 985.2.
    chunk = samples[start * FRAME : (start + length) * FRAME]
    freq = max(BAND_FREQS[band], key=lambda f: tone_ratio(chunk, f))
    # Frames straddling a boundary are rarely tone-pure enough to count: add one frame.
    return SitSegment(freq=freq, duration_ms=(length + 1) * FRAME_MS, strength=strength)


def _kind(first: SitSegment, second: SitSegment, third: SitSegment) -> str:
    if first.freq == ITU1 or second.freq == ITU2 or third.freq == ITU3:
        return "unknown"
    key = (first.freq, first.duration_ms > _SPLIT_MS, second.freq, second.duration_ms > _SPLIT_MS)
    return _KINDS.get(key, "unknown")


def band_labels(features: FrameFeatures) -> np.ndarray:
    """Per frame: 1, 2 or 3 for a frame dominated by that SIT band's tone, else 0."""
    strengths = np.stack(
        [np.max(np.stack([features.ratio(f) for f in band]), axis=0) for band in BAND_FREQS]
    )
    best = np.argmax(strengths, axis=0)
    strong = (strengths.max(axis=0) >= _TONE_RATIO) & (features.rms_db >= _MIN_LEVEL_DB)
    return np.where(strong, best + 1, 0)


def detect_sit(samples: FloatArray, features: FrameFeatures) -> SitDetection | None:
    """Find the first complete three-tone SIT in the audio, if any."""
    labels = band_labels(features)
    runs = _runs(labels)
    for i in range(len(runs) - 2):
        (l1, s1, n1), (l2, s2, n2), (l3, s3, n3) = runs[i], runs[i + 1], runs[i + 2]
        if (l1, l2, l3) != (1, 2, 3):
            continue
        if s2 - (s1 + n1) > _MAX_GAP_FRAMES or s3 - (s2 + n2) > _MAX_GAP_FRAMES:
            continue
        lengths_ms = [(n + 1) * FRAME_MS for n in (n1, n2)]
        if not all(_MIN_SEG_MS <= ms <= _MAX_SEG_MS for ms in lengths_ms):
            continue
        if (n3 + 1) * FRAME_MS < _MIN_THIRD_MS:
            continue
        segs = []
        for band, (start, length) in enumerate(((s1, n1), (s2, n2), (s3, n3))):
            strength = float(np.mean(np.max(features.ratios[start : start + length], axis=1)))
            segs.append(_segment(samples, band, start, length, strength))
        first, second, third = segs
        kind = _kind(first, second, third)
        confidence = min(1.0, float(np.mean([s.strength for s in segs])))
        if kind == "unknown":
            confidence *= 0.8
        return SitDetection(
            kind=kind,
            segments=(first, second, third),
            confidence=round(confidence, 3),
            end_ms=(s3 + n3) * FRAME_MS,
        )
    return None
