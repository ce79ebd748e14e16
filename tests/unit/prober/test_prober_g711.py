"""G.711 tables against the ITU reference values and (while it exists) audioop."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lc_prober.adapters.media import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

ALL_BYTES = bytes(range(256))
ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int16)


def test_ulaw_known_values() -> None:
    assert g711.ulaw_decode(b"\xff\x7f\x00\x80").tolist() == [0, 0, -32124, 32124]


def test_alaw_known_values() -> None:
    assert g711.alaw_decode(b"\xd5\x55\x2a\xaa").tolist() == [8, -8, -32256, 32256]


def test_decode_tables_match_audioop() -> None:
    assert g711.ulaw_decode(ALL_BYTES).tolist() == list(
        np.frombuffer(audioop.ulaw2lin(ALL_BYTES, 2), dtype=np.int16)
    )
    assert g711.alaw_decode(ALL_BYTES).tolist() == list(
        np.frombuffer(audioop.alaw2lin(ALL_BYTES, 2), dtype=np.int16)
    )


def test_encoders_match_audioop_for_every_sample() -> None:
    assert g711.ulaw_encode(ALL_SAMPLES) == audioop.lin2ulaw(ALL_SAMPLES.tobytes(), 2)
    assert g711.alaw_encode(ALL_SAMPLES) == audioop.lin2alaw(ALL_SAMPLES.tobytes(), 2)


@pytest.mark.parametrize("payload_type", [0, 8])
def test_round_trip_error_is_small(payload_type: int) -> None:
    x = (np.sin(np.arange(800) / 7) * 20000).astype(np.int16)
    encode = g711.ulaw_encode if payload_type == 0 else g711.alaw_encode
    y = g711.decode(encode(x), payload_type).astype(np.int32)
    assert np.max(np.abs(y - x) / np.maximum(np.abs(x), 256)) < 0.07


def test_decode_rejects_other_payload_types() -> None:
    with pytest.raises(ValueError):
        g711.decode(b"\x00", 18)
