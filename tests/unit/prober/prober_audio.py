"""Synthesized 8 kHz test audio, written independently of the simulator's generator."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

RATE = 8000
Audio = NDArray[np.float64]


def tone(freqs: tuple[float, ...], ms: float, level: float = 0.25, phase: float = 0.3) -> Audio:
    """A sum of sines, or silence when no frequency is given."""
    t = np.arange(int(RATE * ms / 1000)) / RATE
    out = np.zeros(len(t))
    for i, f in enumerate(freqs):
        out += level / len(freqs) * np.sin(2 * np.pi * f * t + phase * (i + 1))
    return out


def silence(ms: float) -> Audio:
    """Digital silence."""
    return np.zeros(int(RATE * ms / 1000))


def sit(first: tuple[float, float], second: tuple[float, float], level: float = 0.2) -> Audio:
    """A SIT from (frequency, ms) of its first two tones; the third is 1776.7 Hz for 380 ms."""
    return np.concatenate(
        [
            tone((first[0],), first[1], level),
            tone((second[0],), second[1], level),
            tone((1776.7,), 380, level),
        ]
    )


def speech_like(ms: float, seed: int = 3, level: float = 0.1) -> Audio:
    """Voice-like noise: coloured spectrum (formant near 500 Hz), syllables and pauses."""
    rng = np.random.default_rng(seed)
    n = int(RATE * ms / 1000)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    colour = 1 / (1 + (f / 600) ** 2) + 0.4 * np.exp(-(((f - 1300) / 250) ** 2))
    colour[f < 80] = 0
    x = np.fft.irfft(spectrum * colour, n)
    t = np.arange(n) / RATE
    syllables = np.abs(np.sin(2 * np.pi * 2.5 * t))
    pauses = (rng.random(n // 2000 + 1) > 0.3).repeat(2000)[:n]
    return x / np.std(x) * level * syllables * pauses


def white_noise(ms: float, seed: int = 5, level: float = 0.1) -> Audio:
    """Flat-spectrum noise at a constant level."""
    return np.random.default_rng(seed).standard_normal(int(RATE * ms / 1000)) * level


def ringback_au(ms: float) -> Audio:
    """Australian ring tone: 400+425+450 Hz, 0.4 on 0.2 off 0.4 on 2.0 off."""
    burst = tone((400.0, 425.0, 450.0), 400)
    cycle = np.concatenate([burst, silence(200), burst, silence(2000)])
    return np.tile(cycle, int(ms // 3000) + 1)[: int(RATE * ms / 1000)]


def ringback_us(ms: float) -> Audio:
    """North American ringback: 440+480 Hz, 2 s on 4 s off."""
    cycle = np.concatenate([tone((440.0, 480.0), 2000), silence(4000)])
    return np.tile(cycle, int(ms // 6000) + 1)[: int(RATE * ms / 1000)]


def pcm16(x: Audio) -> NDArray[np.int16]:
    """Floats to 16-bit samples."""
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)
