"""The simulator's lean parser and response builder, and its digest checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from sipmessage import Message, Response

from lc_carrier_sim import audio
from lc_carrier_sim.audio import SIT_CODES, encode, intercept_announcement, ringback
from lc_carrier_sim.auth import DigestAuthenticator
from lc_carrier_sim.rules import AuthConfig
from lc_carrier_sim.sipmsg import build_response, parse_request
from lc_prober.adapters.media import classify_audio, ulaw_decode
from lc_prober.adapters.media.fingerprint import fingerprint
from lc_prober.adapters.media.g711 import alaw_decode
from lc_prober.adapters.sip.digest import answer_challenge
from lc_sip.sdp import AudioDescription, audio_sdp, parse_audio

INVITE = (
    b"INVITE sip:61299990005@127.0.0.1:5070;transport=udp SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 10.0.0.1:5099;branch=z9hG4bKabc;rport\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKproxy\r\n"
    b"f: <sip:lc@10.0.0.1>;tag=x1\r\n"
    b"To: <sip:61299990005@127.0.0.1>\r\n"
    b"i: call-1@10.0.0.1\r\n"
    b"CSeq: 7 INVITE\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 60\r\n\r\n"
    b"v=0\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0\r\n"
)


def test_parse_request_with_compact_headers() -> None:
    req = parse_request(INVITE)
    assert req is not None
    assert req.method == "INVITE"
    assert req.number == "+61299990005"
    assert req.call_id == "call-1@10.0.0.1"
    assert req.branch == "z9hG4bKabc"
    assert len(req.headers["via"]) == 2
    assert parse_request(b"SIP/2.0 200 OK\r\n\r\n") is None


def test_response_copies_headers_and_tags_to() -> None:
    req = parse_request(INVITE)
    assert req is not None
    for code, tagged in ((100, False), (180, True), (486, True)):
        resp = Message.parse(build_response(req, code, "X", to_tag="t9", contact="<sip:s@h>"))
        assert isinstance(resp, Response)
        assert resp.code == code
        assert resp.headers.getlist("Via") == req.headers["via"]
        assert resp.headers["CSeq"] == "7 INVITE"
        assert resp.headers["Call-ID"] == "call-1@10.0.0.1"
        assert ("tag=t9" in resp.headers["To"]) is tagged
        assert resp.content_length == 0


def test_sdp_offer_and_answer() -> None:
    req = parse_request(INVITE)
    assert req is not None
    assert parse_audio(req.body) == AudioDescription("10.0.0.1", 4000, (8, 0))
    answer = audio_sdp("127.0.0.1", 6000, (8,), origin="carrier-sim")
    assert parse_audio(answer) == AudioDescription("127.0.0.1", 6000, (8,))


@pytest.mark.parametrize("qop", ["auth", "none"])
def test_digest_round_trip_with_the_prober(qop: str) -> None:
    auth = DigestAuthenticator(AuthConfig(username="u", password="p", qop=qop))  # type: ignore[arg-type]
    challenge = auth.challenge()
    good = answer_challenge(
        challenge, username="u", password="p", method="INVITE", uri="sip:+612@h"
    )
    bad = answer_challenge(challenge, username="u", password="q", method="INVITE", uri="sip:+612@h")
    assert auth.verify("INVITE", good.header_value)
    assert not auth.verify("INVITE", bad.header_value)
    assert not auth.verify("INVITE", good.header_value.replace('nonce="', 'nonce="0'))
    assert not auth.verify("INVITE", "Basic dTpw")


@pytest.mark.parametrize("kind", sorted(SIT_CODES))
@pytest.mark.parametrize("payload_type", [0, 8])
def test_intercept_clips_are_recognised(kind: str, payload_type: int) -> None:
    data = encode(intercept_announcement(kind), payload_type)
    decoded = ulaw_decode(data) if payload_type == 0 else alaw_decode(data)
    finding = classify_audio(decoded)
    assert (finding.finding, finding.sit_kind) == ("sit", kind)


@pytest.mark.parametrize("country", ["au", "us"])
def test_ringback_clips_are_recognised(country: str) -> None:
    clip = np.tile(ringback(country), 2)[: 8000 * 4]
    finding = classify_audio(ulaw_decode(encode(clip, 0)))
    assert (finding.finding, finding.detail) == ("ringback", country)


def test_the_shipped_library_entry_is_the_fingerprint_of_the_known_message() -> None:
    entry = yaml.safe_load(
        (Path(__file__).parents[3] / "sim/carrier/announcements/not-connected.yaml").read_text()
    )
    expected = fingerprint(np.tile(audio.announcement(audio.KNOWN_ANNOUNCEMENT), 2), limit=None)
    assert entry["fingerprint"] == expected
