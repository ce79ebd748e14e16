"""RTP parsing, the receiver's placement of audio by timestamp, and its lazily read socket."""

from __future__ import annotations

import asyncio
import socket
import struct

import numpy as np
from prober_audio import pcm16, sit, speech_like

from lc_prober.adapters.media import RtpReceiver, build_offer, parse_audio, parse_rtp, ulaw_encode
from lc_prober.adapters.media.sit import SitDetection

ADDR = ("127.0.0.1", 4000)


def rtp(
    pt: int,
    seq: int,
    ts: int,
    payload: bytes,
    *,
    ssrc: int = 7,
    csrc: int = 0,
    ext: bytes | None = None,
    pad: int = 0,
) -> bytes:
    b0 = 0x80 | csrc | (0x10 if ext is not None else 0) | (0x20 if pad else 0)
    out = struct.pack("!BBHII", b0, pt, seq, ts, ssrc) + b"\x00\x00\x00\x01" * csrc
    if ext is not None:
        out += struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
    out += payload
    if pad:
        out += b"\x00" * (pad - 1) + bytes([pad])
    return out


def test_parse_rtp_with_csrc_extension_and_padding() -> None:
    packet = rtp(8, 5, 1000, b"abc", csrc=2, ext=b"\x01\x02\x03\x04", pad=3)
    assert parse_rtp(packet) == (8, 5, 1000, 7, b"abc")


def test_parse_rtp_rejects_garbage() -> None:
    assert parse_rtp(b"\x00" * 20) is None
    assert parse_rtp(b"\x80\x00") is None


def test_receiver_places_reordered_packets_by_timestamp() -> None:
    receiver = RtpReceiver(max_seconds=1)
    ones = ulaw_encode(np.full(160, 1000, dtype=np.int16))
    twos = ulaw_encode(np.full(160, -1000, dtype=np.int16))
    receiver.datagram_received(rtp(0, 1, 5000, ones), ADDR)
    receiver.datagram_received(rtp(0, 3, 5320, ones), ADDR)
    receiver.datagram_received(rtp(0, 2, 5160, twos), ADDR)
    audio = receiver.audio()
    assert len(audio) == 480
    assert audio[0] > 0 and audio[200] < 0 and audio[400] > 0
    assert receiver.packets == 3 and receiver.codec == "PCMU"


def test_receiver_ignores_other_payload_types_and_old_packets() -> None:
    receiver = RtpReceiver(max_seconds=1)
    receiver.datagram_received(rtp(101, 1, 100, b"\x00" * 4), ADDR)  # DTMF event
    receiver.datagram_received(rtp(8, 2, 5000, b"\xd5" * 160), ADDR)
    receiver.datagram_received(rtp(0, 3, 5160, b"\xff" * 160), ADDR)  # codec switch: ignored
    receiver.datagram_received(rtp(8, 1, 4840, b"\xd5" * 160), ADDR)  # before the start
    assert receiver.packets == 2  # counted even when too late to place
    assert len(receiver.audio()) == 160
    assert receiver.codec == "PCMA"


def test_receiver_continues_after_ssrc_change_and_is_bounded() -> None:
    receiver = RtpReceiver(max_seconds=0.05)  # 400 samples
    receiver.datagram_received(rtp(0, 1, 10, b"\xff" * 160, ssrc=1), ADDR)
    receiver.datagram_received(rtp(0, 1, 99999, b"\xff" * 160, ssrc=2), ADDR)
    assert len(receiver.audio()) == 320
    receiver.datagram_received(rtp(0, 2, 100159, b"\xff" * 160, ssrc=2), ADDR)
    assert len(receiver.audio()) == 400


def test_receiver_reports_a_sit_while_listening() -> None:
    heard: list[SitDetection] = []
    receiver = RtpReceiver(max_seconds=5, on_sit=heard.append)
    payload = ulaw_encode(
        pcm16(np.concatenate([sit((913.8, 274), (1370.6, 274)), speech_like(2000)]))
    )
    for i in range(len(payload) // 160):
        receiver.datagram_received(rtp(0, i, i * 160, payload[i * 160 : (i + 1) * 160]), ADDR)
    assert len(heard) == 1
    assert heard[0].kind == "intercept"
    assert heard[0].end_ms < 1100  # reported right after the third tone, not at the end


async def test_a_reserved_socket_keeps_packets_until_listened_to() -> None:
    receiver = RtpReceiver(max_seconds=1)
    port = receiver.reserve("127.0.0.1")
    assert port > 0 and not receiver.listening and len(receiver.audio()) == 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.sendto(rtp(0, 1, 0, b"\xff" * 160), ("127.0.0.1", port))
        peer.sendto(rtp(0, 2, 160, b"\xff" * 160), ("127.0.0.1", port))
        await asyncio.sleep(0.05)
        assert receiver.packets == 0  # queued in the kernel, not read yet
        receiver.listen()
        assert receiver.listening and receiver.packets == 2
        peer.sendto(rtp(0, 3, 320, b"\xff" * 160), ("127.0.0.1", port))
        for _ in range(100):
            if receiver.packets == 3:
                break
            await asyncio.sleep(0.01)
    assert receiver.packets == 3 and len(receiver.audio()) == 480
    receiver.close()
    receiver.close()  # idempotent


async def test_drain_reads_what_came_without_listening() -> None:
    receiver = RtpReceiver(max_seconds=1)
    port = receiver.reserve("127.0.0.1")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.sendto(rtp(8, 1, 0, b"\xd5" * 160), ("127.0.0.1", port))
        await asyncio.sleep(0.05)
    receiver.drain()
    assert receiver.packets == 1 and receiver.codec == "PCMA" and not receiver.listening
    receiver.close()
    receiver.drain()  # closed: nothing to read, no error


def test_sdp_offer_round_trip() -> None:
    offer = build_offer("192.0.2.4", 40000, 42)
    assert b"m=audio 40000 RTP/AVP 0 8\r\n" in offer
    parsed = parse_audio(offer)
    assert parsed is not None
    assert (parsed.host, parsed.port, parsed.payload_types) == ("192.0.2.4", 40000, (0, 8))


def test_sdp_media_level_connection_wins() -> None:
    body = (
        b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        b"m=audio 5004 RTP/AVP 8 101\r\nc=IN IP4 10.0.0.2\r\nm=video 5006 RTP/AVP 96\r\n"
    )
    parsed = parse_audio(body)
    assert parsed is not None
    assert (parsed.host, parsed.port, parsed.payload_types) == ("10.0.0.2", 5004, (8, 101))
    assert parse_audio(b"v=0\r\n") is None
