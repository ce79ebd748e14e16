"""The prober's SDP offer: G.711 audio, μ-law first then A-law (parsing lives in lc_sip)."""

from __future__ import annotations

from lc_sip.sdp import CODEC_NAMES, AudioDescription, audio_sdp, parse_audio

PCMU, PCMA = 0, 8

__all__ = ["CODEC_NAMES", "PCMA", "PCMU", "AudioDescription", "build_offer", "parse_audio"]


def build_offer(host: str, port: int, session_id: int) -> bytes:
    """An SDP offer receiving G.711 (μ-law first, then A-law) on host:port."""
    return audio_sdp(host, port, (PCMU, PCMA), origin="leadcleanser", session_id=session_id)
