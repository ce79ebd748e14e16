"""Receiving early media: one UDP socket per call, RTP parsed and G.711 decoded in place.

Most test calls never get early media, so a call only binds its socket (the port its SDP
offer names) and the event loop watches it from the first provisional response with SDP;
until then the kernel queues whatever arrives, and :meth:`RtpReceiver.listen` or
:meth:`RtpReceiver.drain` reads it. The audio buffer is allocated with the first packet.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable

import numpy as np
import structlog
from numpy.typing import NDArray

from lc_prober.adapters.media.classify import find_sit
from lc_prober.adapters.media.g711 import decode
from lc_prober.adapters.media.sdp import CODEC_NAMES
from lc_prober.adapters.media.sit import SitDetection

log = structlog.get_logger("lc_prober.adapters.media.rtp")

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


class RtpReceiver:
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
        self._samples = int(max_seconds * SAMPLE_RATE)
        self._buf: NDArray[np.int16] | None = None
        self._filled = 0
        self._checked = 0
        self._check_samples = check_ms * SAMPLE_RATE // 1000
        self._on_sit = on_sit
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ssrc: int | None = None
        self._ts0 = 0
        self._idx0 = 0
        self.packets = 0
        self.payload_type: int | None = None
        self.sit: SitDetection | None = None
        self.port = 0

    def reserve(self, host: str, port: int = 0) -> int:
        """Bind the RTP socket without reading it yet; returns the port to offer in SDP."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self.port = int(sock.getsockname()[1])
        return self.port

    @property
    def listening(self) -> bool:
        """Whether the event loop reads the socket as packets arrive."""
        return self._loop is not None

    def listen(self) -> None:
        """Read what the kernel queued so far, then every packet as it arrives."""
        if self._sock is None or self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self.drain()
        self._loop.add_reader(self._sock.fileno(), self.drain)

    async def open(self, host: str, port: int = 0) -> int:
        """Bind the RTP socket and listen at once; returns the port to offer in SDP."""
        self.reserve(host, port)
        self.listen()
        return self.port

    def drain(self) -> None:
        """Read every datagram waiting on the socket (without blocking)."""
        sock = self._sock
        while sock is not None:
            try:
                data, addr = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("rtp_receive_failed", error=str(exc))
                return
            self.datagram_received(data, addr)
            sock = self._sock

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
        if idx >= self._samples:
            return
        buf = self._buf
        if buf is None:
            buf = self._buf = np.zeros(self._samples, dtype=np.int16)
        samples = decode(payload, pt)[: self._samples - idx]
        buf[idx : idx + len(samples)] = samples
        self._filled = max(self._filled, idx + len(samples))
        if self.sit is None and self._filled - self._checked >= self._check_samples:
            self._checked = self._filled
            self.sit = find_sit(buf[: self._filled])
            if self.sit is not None and self._on_sit is not None:
                self._on_sit(self.sit)

    def audio(self) -> NDArray[np.int16]:
        """The audio received so far (gaps are silence)."""
        if self._buf is None:
            return np.zeros(0, dtype=np.int16)
        return self._buf[: self._filled].copy()

    def close(self) -> None:
        """Release the socket."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(sock.fileno())
        sock.close()
