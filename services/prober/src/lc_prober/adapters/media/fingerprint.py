"""Landmark fingerprints of early media, so a carrier's recorded announcement can be recognised.

The prober does not judge an announcement: it ships the fingerprint of what it heard in
the signalling event (`EarlyMediaV1.fingerprint`) and the classifier matches it against
the operator's library of known announcements (`lc_classifier.announcements`).

Written here rather than taken from PyPI: the maintained library (Chromaprint, through
pyacoustid) needs a native library, is tuned to music chroma at 11 kHz and compares whole
tracks, while early media is 300-3400 Hz speech through G.711, a few seconds long,
starting anywhere in a looping message; the pure-Python landmark packages there are
single-release projects. This is the classic landmark scheme (Wang 2003): spectrogram
peaks, paired anchor → target; a hash is (anchor bin, target bin, time apart) and keeps
the anchor's time, so a match is many hashes agreeing on one time offset, which G.711
noise, level changes and a different starting point do not disturb.

Wire form: base64 of big-endian uint32 values, `hash << 12 | frame` (frame modulo 4096).
"""

from __future__ import annotations

import base64
import sys

import numpy as np
from numpy.typing import NDArray

from lc_prober.adapters.media.goertzel import SAMPLE_RATE, FloatArray, to_float

WINDOW = 256
HOP = 128
"""16 ms between spectrogram columns (the time unit of a landmark)."""
LOW_BIN, HIGH_BIN = 10, 108
"""About 310-3380 Hz: the telephone band."""
PEAKS_PER_SECOND = 20
FAN_OUT = 3
MAX_DT = 40
"""Targets within 40 columns (0.64 s) after their anchor."""
MAX_DF = 24
MAX_HASHES = 600
"""Bounds the event: 600 values of 4 bytes is 3,200 characters of base64."""
_NEIGHBOURHOOD = (5, 9)  # columns by bins a peak must dominate
_FLOOR_DB = -60.0
_RANK_WINDOW = SAMPLE_RATE // HOP // 2  # columns either side: one second in all


def _spectrogram_db(x: FloatArray) -> FloatArray:
    """Log power (dB) per column (rows) and telephone-band bin (columns)."""
    count = 1 + (len(x) - WINDOW) // HOP
    index = np.arange(WINDOW)[None, :] + HOP * np.arange(count)[:, None]
    frames = x[index] * np.hanning(WINDOW)[None, :]
    power = np.abs(np.fft.rfft(frames, axis=1)[:, LOW_BIN:HIGH_BIN]) ** 2
    return np.asarray(10.0 * np.log10(np.maximum(power, 1e-12)), dtype=np.float64)


def _local_maxima(spec: FloatArray) -> NDArray[np.bool_]:
    """Cells that are the maximum of their neighbourhood (a sliding max, separable)."""
    dt, df = _NEIGHBOURHOOD
    padded = np.pad(spec, ((dt // 2, dt // 2), (df // 2, df // 2)), constant_values=-np.inf)
    rows = np.lib.stride_tricks.sliding_window_view(padded, dt, axis=0).max(axis=-1)
    both = np.lib.stride_tricks.sliding_window_view(rows, df, axis=1).max(axis=-1)
    return np.asarray(spec >= both, dtype=np.bool_)


def peaks(samples: NDArray[np.integer] | NDArray[np.floating]) -> list[tuple[int, int]]:
    """(column, bin) of the strongest spectral peaks, in time order."""
    x = to_float(samples)
    if len(x) < WINDOW:
        return []
    spec = _spectrogram_db(x)
    loud = spec.max(axis=1) >= _FLOOR_DB
    candidates = _local_maxima(spec) & loud[:, None] & (spec >= _FLOOR_DB)
    cols, bins = np.nonzero(candidates)
    if len(cols) == 0:
        return []
    # Keep a peak when few stronger ones lie within half a second of it: a rank in a
    # sliding window, so the same peaks survive whichever moment listening began.
    strength = spec[cols, bins]
    near = np.abs(cols[:, None] - cols[None, :]) <= _RANK_WINDOW
    stronger = (near & (strength[None, :] > strength[:, None])).sum(axis=1)
    keep = stronger < PEAKS_PER_SECOND
    return sorted(zip(cols[keep].tolist(), bins[keep].tolist(), strict=True))


def landmarks(samples: NDArray[np.integer] | NDArray[np.floating]) -> list[tuple[int, int]]:
    """(hash, anchor column) pairs: each peak paired with the next few in its target zone."""
    found = peaks(samples)
    out: list[tuple[int, int]] = []
    for i, (t1, f1) in enumerate(found):
        paired = 0
        for t2, f2 in found[i + 1 :]:
            dt = t2 - t1
            if dt > MAX_DT:
                break
            if dt < 1 or abs(f2 - f1) > MAX_DF:
                continue
            out.append(((f1 << 13) | (f2 << 6) | dt, t1))
            paired += 1
            if paired == FAN_OUT:
                break
    return out


def encode(marks: list[tuple[int, int]], limit: int | None = MAX_HASHES) -> str:
    """The wire form of landmarks (at most `limit`, the earliest)."""
    kept = marks if limit is None else marks[:limit]
    values = np.asarray([(h << 12) | (t & 0xFFF) for h, t in kept], dtype=">u4").tobytes()
    return base64.b64encode(values).decode("ascii")


def decode(text: str) -> list[tuple[int, int]]:
    """Landmarks from their wire form."""
    values = np.frombuffer(base64.b64decode(text), dtype=">u4").tolist()
    return [(v >> 12, v & 0xFFF) for v in values]


def fingerprint(
    samples: NDArray[np.integer] | NDArray[np.floating], limit: int | None = MAX_HASHES
) -> str | None:
    """The wire fingerprint of a stretch of audio, or None when it has no landmarks."""
    marks = landmarks(samples)
    return encode(marks, limit) if marks else None


def main(argv: list[str] | None = None) -> int:
    """`python -m lc_prober.adapters.media.fingerprint recording.wav`: print its wire fingerprint.

    The recording is 8 kHz mono 16-bit PCM (convert with `sox in.wav -r 8000 -c 1 -b 16`);
    an operator adds the output to a library entry of the classifier.
    """
    import wave

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(main.__doc__, file=sys.stderr)  # noqa: T201
        return 2
    with wave.open(args[0], "rb") as wav:
        if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (SAMPLE_RATE, 1, 2):
            print("need 8 kHz mono 16-bit PCM", file=sys.stderr)  # noqa: T201
            return 2
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    print(fingerprint(samples, limit=None) or "")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
