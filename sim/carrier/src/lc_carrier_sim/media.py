"""Sends early media: one shared RTP socket and one 20 ms clock for every stream."""

from __future__ import annotations

import asyncio
import secrets
import socket
import struct
from dataclasses import dataclass
from functools import lru_cache

from lc_carrier_sim import audio

PACKET = 160  # 20 ms of G.711
_HEADER = struct.Struct("!BBHII")


@lru_cache(maxsize=32)
def clip(name: str, payload_type: int) -> bytes:
    """Encoded audio of a named clip: ``ringback:au``, ``ringback:us``, ``sit:<kind>``,
    ``announcement:<name>`` (a recorded message with no tone before it), ``caller_tune:``."""
    family, _, arg = name.partition(":")
    if family == "ringback":
        samples = audio.ringback(arg)
    elif family == "announcement":
        samples = audio.announcement(arg or audio.KNOWN_ANNOUNCEMENT)
    elif family == "caller_tune":
        samples = audio.caller_tune()
    else:
        samples = audio.intercept_announcement(arg)
    return audio.encode(samples, payload_type)


@dataclass(slots=True)
class _Stream:
    addr: tuple[str, int]
    data: bytes
    payload_type: int
    ssrc: int
    seq: int
    ts: int
    pos: int = 0
    first: bool = True


class MediaPump(asyncio.DatagramProtocol):
    """Plays looping clips to remote RTP addresses until stopped."""

    def __init__(self) -> None:
        self._transport: asyncio.DatagramTransport | None = None
        self._streams: dict[int, _Stream] = {}
        self._next_id = 0
        self._timer: asyncio.TimerHandle | None = None
        self._tick_at = 0.0
        self.port = 0
        self.packets_sent = 0

    async def start(self, host: str) -> None:
        """Bind the shared RTP socket."""
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(host, 0), family=socket.AF_INET
        )
        self.port = int(self._transport.get_extra_info("sockname")[1])

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        """Incoming RTP is ignored: the network does not listen to the prober."""

    def play(self, addr: tuple[str, int], clip_name: str, payload_type: int) -> int:
        """Start a stream; returns its id for :meth:`stop`."""
        self._next_id += 1
        self._streams[self._next_id] = _Stream(
            addr=addr,
            data=clip(clip_name, payload_type),
            payload_type=payload_type,
            ssrc=secrets.randbits(32),
            seq=secrets.randbits(16),
            ts=secrets.randbits(32),
        )
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._tick_at = loop.time()
            self._tick()
        return self._next_id

    def stop(self, stream_id: int | None) -> None:
        """Stop a stream (no-op if already stopped)."""
        if stream_id is not None:
            self._streams.pop(stream_id, None)

    @property
    def active(self) -> int:
        """Streams playing."""
        return len(self._streams)

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        transport = self._transport
        if not self._streams or transport is None:
            self._timer = None
            return
        for stream in self._streams.values():
            chunk = stream.data[stream.pos : stream.pos + PACKET]
            if len(chunk) < PACKET:
                stream.pos = PACKET - len(chunk)
                chunk += stream.data[: stream.pos]
            else:
                stream.pos += PACKET
            marker = 0x80 if stream.first else 0
            stream.first = False
            header = _HEADER.pack(
                0x80, marker | stream.payload_type, stream.seq, stream.ts, stream.ssrc
            )
            transport.sendto(header + chunk, stream.addr)
            stream.seq = (stream.seq + 1) & 0xFFFF
            stream.ts = (stream.ts + PACKET) & 0xFFFFFFFF
            self.packets_sent += 1
        # Absolute schedule: a late tick does not shift the stream's timeline.
        self._tick_at += PACKET / 8000
        self._timer = loop.call_at(max(self._tick_at, loop.time()), self._tick)

    def close(self) -> None:
        """Stop everything and release the socket."""
        self._streams.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None
