"""lc_sip: stream framing, Via branch and compact names, the G.711 SDP both ends write."""

from __future__ import annotations

import pytest

from lc_sip import COMPACT_HEADERS, AudioDescription, SipFramer, audio_sdp, parse_audio, via_branch


def test_framer_splits_a_tcp_stream() -> None:
    one = b"SIP/2.0 100 Trying\r\nCall-ID: a\r\nContent-Length: 0\r\n\r\n"
    two = b"SIP/2.0 183 Session Progress\r\nl: 4\r\n\r\nv=0\n"
    framer = SipFramer()
    stream = b"\r\n\r\n" + one + two
    out: list[bytes] = []
    for i in range(0, len(stream), 7):
        out += framer.feed(stream[i : i + 7])
    assert out == [one, two]


def test_framer_waits_for_the_whole_body_and_refuses_endless_headers() -> None:
    framer = SipFramer()
    assert framer.feed(b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\n12345") == []
    assert framer.feed(b"67890") == [
        b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\n1234567890"
    ]
    with pytest.raises(ValueError):
        SipFramer().feed(b"X" * (64 * 1024 + 1))


def test_via_branch_of_the_top_value() -> None:
    via = "SIP/2.0/UDP 10.0.0.1:5099;rport;branch=z9hG4bKabc, SIP/2.0/UDP p;branch=z9hG4bKp"
    assert via_branch(via) == "z9hG4bKabc"
    assert via_branch("SIP/2.0/UDP 10.0.0.1 ; BRANCH = z9hG4bKx") == "z9hG4bKx"
    assert via_branch("SIP/2.0/UDP 10.0.0.1") is None
    assert COMPACT_HEADERS["v"] == "via" and COMPACT_HEADERS["i"] == "call-id"


def test_sdp_written_by_one_end_is_read_by_the_other() -> None:
    offer = audio_sdp("192.0.2.4", 40000, (0, 8), origin="leadcleanser", session_id=42)
    assert parse_audio(offer) == AudioDescription("192.0.2.4", 40000, (0, 8))
    assert b"a=rtpmap:8 PCMA/8000" in offer and b"o=leadcleanser 42 42 IN IP4" in offer
    media_level = b"v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5/2 RTP/AVP 0\r\nc=IN IP4 2.2.2.2\r\n"
    assert parse_audio(media_level) == AudioDescription("2.2.2.2", 5, (0,))
    assert parse_audio(b"v=0\r\nm=video 5 RTP/AVP 96\r\n") is None
