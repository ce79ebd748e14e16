"""Audio the simulated network plays as early media: SITs, ringback, speech-like noise."""

from __future__ import annotations

import zlib

import numpy as np
from numpy.typing import NDArray

RATE = 8000
LOW1, HIGH1, LOW2, HIGH2, THIRD = 913.8, 985.2, 1370.6, 1428.5, 1776.7
SHORT, LONG = 274, 380

# Telcordia SIT codes: (first frequency, ms), (second frequency, ms); third is 1776.7 Hz long.
SIT_CODES: dict[str, tuple[tuple[float, int], tuple[float, int]]] = {
    "intercept": ((LOW1, SHORT), (LOW2, SHORT)),
    "vacant_code": ((HIGH1, LONG), (LOW2, SHORT)),
    "no_circuit": ((HIGH1, LONG), (HIGH2, LONG)),
    "reorder": ((LOW1, SHORT), (HIGH2, LONG)),
    "ineffective_other": ((HIGH1, SHORT), (HIGH2, SHORT)),
}

Samples = NDArray[np.float64]


def tone(freqs: tuple[float, ...], ms: int, level: float = 0.2) -> Samples:
    """A sum of sines (total peak ``level`` of full scale); silence when freqs is empty."""
    t = np.arange(int(RATE * ms / 1000)) / RATE
    out = np.zeros(len(t))
    for f in freqs:
        out += np.sin(2 * np.pi * f * t) * (level / len(freqs))
    return out


def sit(kind: str, level: float = 0.2) -> Samples:
    """The three tones of a SIT of the given kind."""
    (f1, ms1), (f2, ms2) = SIT_CODES[kind]
    return np.concatenate(
        [tone((f1,), ms1, level), tone((f2,), ms2, level), tone((THIRD,), LONG, level)]
    )


def speech_like(ms: int, seed: int = 7, level: float = 0.1) -> Samples:
    """Noise shaped like a voice: low-pass with a formant, syllabic envelope and pauses."""
    rng = np.random.default_rng(seed)
    n = int(RATE * ms / 1000)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    shape = 1 / (1 + (f / 700) ** 2) + 0.5 * np.exp(-(((f - 1500) / 300) ** 2))
    shape[f < 100] = 0
    x = np.fft.irfft(spectrum * shape, n)
    t = np.arange(n) / RATE
    envelope = np.abs(np.sin(2 * np.pi * 2 * t))
    envelope *= (rng.random(n // 1600 + 1) > 0.3).repeat(1600)[:n]
    return np.asarray(x / np.std(x) * level * envelope, dtype=np.float64)


def ringback(country: str) -> Samples:
    """One cadence cycle: AU 400+425+450 Hz 0.4/0.2/0.4/2.0 s; US 440+480 Hz 2/4 s."""
    if country == "us":
        return np.concatenate([tone((440.0, 480.0), 2000), tone((), 4000)])
    burst = tone((400.0, 425.0, 450.0), 400)
    return np.concatenate([burst, tone((), 200), burst, tone((), 2000)])


def intercept_announcement(kind: str) -> Samples:
    """A SIT followed by a spoken-like announcement and a pause."""
    return np.concatenate(
        [tone((), 100), sit(kind), tone((), 150), speech_like(4000), tone((), 500)]
    )


KNOWN_ANNOUNCEMENT = "not-connected"
"""The message `sim/carrier/announcements/` fingerprints (the demo classifier recognises it)."""


def announcement(name: str = KNOWN_ANNOUNCEMENT) -> Samples:
    """A spoken-like message with no tone before it; each name is a different recording.

    `not-connected` is the one the shipped library knows; any other name (say
    `switched-off`) is a voice the classifier has never heard.
    """
    seed = 7 if name == KNOWN_ANNOUNCEMENT else zlib.crc32(name.encode())
    return np.concatenate([tone((), 200), speech_like(4000, seed=seed), tone((), 800)])


# A caller tune: an arpeggio of notes with two overtones each, above the ringback band.
_TUNE_HZ = (523.3, 659.3, 784.0, 1046.5, 784.0, 659.3, 587.3, 698.5)


def caller_tune(note_ms: int = 250, level: float = 0.2) -> Samples:
    """A short melody looped as a caller tune (music in early media on a live line)."""
    t = np.arange(int(RATE * note_ms / 1000)) / RATE
    attack = np.minimum(1.0, t / 0.02) * np.exp(-t * 2.0)
    notes = []
    for f in _TUNE_HZ:
        note = sum(np.sin(2 * np.pi * f * k * t) / k for k in (1, 2, 3))
        notes.append(note * attack * level / 1.8)
    return np.concatenate(notes)


_ULAW_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def encode(samples: Samples, payload_type: int) -> bytes:
    """Float samples to G.711 bytes: payload type 0 μ-law, 8 A-law (reference quantisers)."""
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int32)
    if payload_type == 0:
        x = pcm >> 2
        mask = np.where(x < 0, 0x7F, 0xFF)
        value = np.minimum(np.abs(x), 8159) + 0x21
        seg = np.searchsorted(_ULAW_END, value, side="left")
        code = np.where(seg >= 8, 0x7F, (seg << 4) | ((value >> (seg + 1)) & 0x0F))
        return ((code ^ mask) & 0xFF).astype(np.uint8).tobytes()
    x = pcm >> 3
    negative = x < 0
    value = np.where(negative, -x - 1, x)
    seg = np.minimum(np.searchsorted(_ALAW_END, value, side="left"), 7)
    code = (seg << 4) | ((value >> np.where(seg < 2, 1, seg)) & 0x0F)
    return ((code ^ np.where(negative, 0x55, 0xD5)) & 0xFF).astype(np.uint8).tobytes()
