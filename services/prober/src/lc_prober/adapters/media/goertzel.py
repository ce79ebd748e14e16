"""Goertzel filters and per-frame features of 8 kHz telephone audio.

Per-frame tone strength is a Goertzel filter evaluated as one matrix product of the
frames with the filter's complex exponential: it is the same single-bin DFT the
Goertzel recurrence computes, but one BLAS call per block beats a per-sample Python
loop by orders of magnitude, which matters with hundreds of calls listening at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 8000
FRAME = 160
"""20 ms analysis frames."""
FRAME_MS = 1000 * FRAME // SAMPLE_RATE

FloatArray = NDArray[np.float64]


def goertzel_power(samples: NDArray[np.floating], freq: float, rate: int = SAMPLE_RATE) -> float:
    """Squared magnitude of ``samples`` at ``freq`` by the Goertzel recurrence."""
    coeff = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in np.asarray(samples, dtype=np.float64).tolist():
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def tone_ratio(samples: NDArray[np.floating], freq: float, rate: int = SAMPLE_RATE) -> float:
    """Share of the signal's power that a pure tone at ``freq`` explains (0..~1)."""
    x = np.asarray(samples, dtype=np.float64)
    energy = float(np.dot(x, x))
    if energy <= 0.0:
        return 0.0
    return 2.0 * goertzel_power(x, freq, rate) / (len(x) * energy)


def block_ratios(
    frames: NDArray[np.floating], freqs: tuple[float, ...], rate: int = SAMPLE_RATE
) -> FloatArray:
    """Tone ratio of every frame (rows) at every frequency (columns)."""
    frames = np.asarray(frames, dtype=np.float64)
    n = frames.shape[1]
    t = np.arange(n)[:, None]
    basis = np.exp(-2j * np.pi * np.asarray(freqs)[None, :] * t / rate)
    power = np.abs(frames @ basis) ** 2
    energy = np.einsum("ij,ij->i", frames, frames)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio: FloatArray = 2.0 * power / (n * energy[:, None])
    return np.asarray(np.nan_to_num(ratio, nan=0.0, posinf=0.0), dtype=np.float64)


def to_float(samples: NDArray[np.integer] | NDArray[np.floating]) -> FloatArray:
    """16-bit linear samples to floats in [-1, 1)."""
    x = np.asarray(samples)
    if np.issubdtype(x.dtype, np.integer):
        return x.astype(np.float64) / 32768.0
    return x.astype(np.float64)


def frames_of(samples: FloatArray, frame: int = FRAME) -> FloatArray:
    """Non-overlapping frames (the incomplete tail is dropped)."""
    count = len(samples) // frame
    return samples[: count * frame].reshape(count, frame)


@dataclass(frozen=True, slots=True)
class FrameFeatures:
    """Features of each 20 ms frame."""

    rms_db: FloatArray
    """Frame level in dBFS."""
    ratios: FloatArray
    """Tone ratio per frame (rows) and frequency of ``freqs`` (columns)."""
    freqs: tuple[float, ...]
    ring_band: FloatArray
    """Share of frame energy in 350-500 Hz, where ringback tones live."""
    spectrum: FloatArray
    """Mean power spectrum of the frames (for the spectral flatness of voice vs noise)."""

    def ratio(self, freq: float) -> FloatArray:
        """Tone ratio per frame at one of ``freqs``."""
        return self.ratios[:, self.freqs.index(freq)]


def frame_features(samples: FloatArray, freqs: tuple[float, ...]) -> FrameFeatures:
    """Compute the per-frame features used by every detector."""
    frames = frames_of(samples)
    if len(frames) == 0:
        empty = np.zeros(0)
        return FrameFeatures(
            empty, np.zeros((0, len(freqs))), freqs, empty, np.zeros(FRAME // 2 + 1)
        )
    energy = np.einsum("ij,ij->i", frames, frames)
    rms_db = 10.0 * np.log10(np.maximum(energy / FRAME, 1e-12))
    spec = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    bin_hz = np.fft.rfftfreq(FRAME, 1.0 / SAMPLE_RATE)
    band = (bin_hz >= 350) & (bin_hz <= 500)
    total = spec.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ring_band = np.nan_to_num(spec[:, band].sum(axis=1) / total)
    return FrameFeatures(
        rms_db=rms_db,
        ratios=block_ratios(frames, freqs),
        freqs=freqs,
        ring_band=ring_band,
        spectrum=spec.mean(axis=0),
    )
