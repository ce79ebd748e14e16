"""G.711 μ-law and A-law codecs as numpy lookup tables (``audioop`` is deprecated)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def _ulaw_table() -> NDArray[np.int16]:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def _alaw_table() -> NDArray[np.int16]:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(
        exponent == 0,
        (mantissa << 4) + 8,
        ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0),
    )
    return np.where(a & 0x80, magnitude, -magnitude).astype(np.int16)


ULAW_TO_LINEAR: NDArray[np.int16] = _ulaw_table()
ALAW_TO_LINEAR: NDArray[np.int16] = _alaw_table()


def ulaw_decode(payload: bytes) -> NDArray[np.int16]:
    """μ-law bytes to 16-bit linear samples."""
    return ULAW_TO_LINEAR[np.frombuffer(payload, dtype=np.uint8)]


def alaw_decode(payload: bytes) -> NDArray[np.int16]:
    """A-law bytes to 16-bit linear samples."""
    return ALAW_TO_LINEAR[np.frombuffer(payload, dtype=np.uint8)]


_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def ulaw_encode(samples: NDArray[np.integer] | NDArray[np.floating]) -> bytes:
    """16-bit linear samples to μ-law bytes (ITU-T G.711 reference quantiser)."""
    x = np.asarray(samples, dtype=np.int32) >> 2
    mask = np.where(x < 0, 0x7F, 0xFF)
    value = np.minimum(np.abs(x), 8159) + 0x21
    seg = np.searchsorted(_ULAW_SEG_END, value, side="left")
    code = np.where(seg >= 8, 0x7F, (seg << 4) | ((value >> (seg + 1)) & 0x0F))
    return ((code ^ mask) & 0xFF).astype(np.uint8).tobytes()


def alaw_encode(samples: NDArray[np.integer] | NDArray[np.floating]) -> bytes:
    """16-bit linear samples to A-law bytes (ITU-T G.711 reference quantiser)."""
    x = np.asarray(samples, dtype=np.int32) >> 3
    negative = x < 0
    mask = np.where(negative, 0x55, 0xD5)
    value = np.where(negative, -x - 1, x)
    seg = np.minimum(np.searchsorted(_ALAW_SEG_END, value, side="left"), 7)
    shift = np.where(seg < 2, 1, seg)
    code = (seg << 4) | ((value >> shift) & 0x0F)
    return ((code ^ mask) & 0xFF).astype(np.uint8).tobytes()


def decode(payload: bytes, payload_type: int) -> NDArray[np.int16]:
    """Decode by static RTP payload type: 0 PCMU, 8 PCMA."""
    if payload_type == 0:
        return ulaw_decode(payload)
    if payload_type == 8:
        return alaw_decode(payload)
    raise ValueError(f"not a G.711 payload type: {payload_type}")
