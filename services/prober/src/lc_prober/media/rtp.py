"""Receiving early media: one UDP socket per call, RTP parsed and G.711 decoded in place."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable

import numpy as np
import structlog
from numpy.typing import NDArray

from lc_prober.media.classify import find_sit
from lc_prober.media.g711 import decode
from lc_prober.media.sdp import CODEC_NAMES
from lc_prober.media.sit import SitDetection

log = structlog.get_logger("lc_prober.media.rtp")

SAMPLE_RATE = 8000
_HEADER = struct.Struct("!BBHII")
_MAX_JUMP = SAMPLE_RATE  # a timestamp jump over 1 s is a new timeline, not a gap


def parse_rtp(data: bytes) -> tuple[int, int, int, int, bytes] | None:
    """(payload type, sequence, timestamp, ssrc, payload) of an RTP packet, or None."""
    if len(data) < 12:
        return None
    b0, b1, seq, ts, ssrc = _HEADER.unpack_from(data)
    if b0 >> 6 != 2:
        return None
    offset = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:
        if len(data) < offset + 4:
            return None
        (words,) = struct.unpack_from("!H", data, offset + 2)
        offset += 4 + 4 * words
    end = len(data)
    if b0 & 0x20 and end > offset:
        end -= data[-1]
    if end <= offset:
        return None
    return b1 & 0x7F, seq, ts, ssrc, data[offset:end]


class RtpReceiver(asyncio.DatagramProtocol):
    """Collects up to ``max_seconds`` of G.711 audio, placed by RTP timestamp.

    While audio arrives it looks for a SIT every ``check_ms`` so the call can be
    cancelled as soon as one is complete.
    """

    def __init__(
        self,
        max_seconds: float,
        on_sit: Callable[[SitDetection], None] | None = None,
        check_ms: int = 100,
    ) -> None:
        self._buf = np.zeros(int(max_seconds * SAMPLE_RATE), dtype=np.int16)
        self._filled = 0
        self._checked = 0
        self._check_samples = check_ms * SAMPLE_RATE // 1000
        self._on_sit = on_sit
        self._transport: asyncio.DatagramTransport | None = None
        self._ssrc: int | None = None
        self._ts0 = 0
        self._idx0 = 0
        self.packets = 0
        self.payload_type: int | None = None
        self.sit: SitDetection | None = None
        self.port = 0

    async def open(self, host: str, port: int = 0) -> int:
        """Bind the RTP socket; returns the port to offer in SDP."""
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(host, port), family=socket.AF_INET
        )
        self.port = int(self._transport.get_extra_info("sockname")[1])
        return self.port

    @property
    def codec(self) -> str | None:
        """PCMU or PCMA once audio has arrived."""
        return CODEC_NAMES.get(self.payload_type) if self.payload_type is not None else None

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        parsed = parse_rtp(data)
        if parsed is None:
            return
        pt, _seq, ts, ssrc, payload = parsed
        if pt not in CODEC_NAMES:
            return  # comfort noise, DTMF events, ...
        if self.payload_type is None:
            self.payload_type = pt
        elif pt != self.payload_type:
            return
        self.packets += 1
        if ssrc != self._ssrc:
            self._ssrc, self._ts0, self._idx0 = ssrc, ts, self._filled
        delta = (ts - self._ts0) & 0xFFFFFFFF
        if delta >= 0x80000000:
            return  # older than the start of this timeline
        idx = self._idx0 + delta
        if idx - self._filled > _MAX_JUMP:
            self._ts0, self._idx0, idx = ts, self._filled, self._filled
        if idx >= len(self._buf):
            return
        samples = decode(payload, pt)[: len(self._buf) - idx]
        self._buf[idx : idx + len(samples)] = samples
        self._filled = max(self._filled, idx + len(samples))
        if self.sit is None and self._filled - self._checked >= self._check_samples:
            self._checked = self._filled
            self.sit = find_sit(self._buf[: self._filled])
            if self.sit is not None and self._on_sit is not None:
                self._on_sit(self.sit)

    def audio(self) -> NDArray[np.int16]:
        """The audio received so far (gaps are silence)."""
        return self._buf[: self._filled].copy()

    def close(self) -> None:
        """Release the socket."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None
