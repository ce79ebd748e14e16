"""The UAC against SIPp, an independent SIP implementation playing the network.

Each SIPp process runs one scenario for one call and exits 0 only if the whole
message flow it expects (CANCEL, ACK, BYE, valid credentials, ...) happened.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from sip_peers import FAST, T1, StartSipp, trunk

from lc_prober.adapters.media import ulaw_encode
from lc_prober.adapters.sip import CallPolicy, SipTrunkClient

pytestmark = [pytest.mark.sip, pytest.mark.timeout(60)]

NUMBER = "+61212345678"


async def test_ringing_is_cancelled_at_once(sipp: StartSipp) -> None:
    peer = await sipp("ring_cancel")
    async with SipTrunkClient(trunk(peer.port)) as client:
        result = await client.call(NUMBER)
    assert result.codes == (100, 180, 487)
    assert (result.ended_by, result.final_code) == ("cancelled", 487)
    assert result.early_media is None
    assert await peer.finish() == 0, peer.errors()
    invite = peer.received("INVITE")[0]
    assert f"INVITE sip:{NUMBER}@127.0.0.1:{peer.port} SIP/2.0" in invite
    assert "m=audio" in invite


async def test_ringing_for_a_while_when_the_policy_says_so(sipp: StartSipp) -> None:
    peer = await sipp("ring_cancel")
    async with SipTrunkClient(trunk(peer.port)) as client:
        result = await client.call(NUMBER, policy=CallPolicy(ring_seconds=0.5))
    assert result.ended_by == "cancelled"
    ringing, terminated = result.responses[1], result.responses[2]
    assert terminated.at_ms - ringing.at_ms >= 480
    assert await peer.finish() == 0, peer.errors()


async def test_over_tcp(sipp: StartSipp) -> None:
    peer = await sipp("ring_cancel", transport="tcp")
    async with SipTrunkClient(trunk(peer.port, "tcp")) as client:
        result = await client.call(NUMBER)
    assert result.codes == (100, 180, 487)
    assert result.ended_by == "cancelled"
    assert await peer.finish() == 0, peer.errors()
    assert "SIP/2.0/TCP" in peer.received("INVITE")[0]


async def test_answered_call_is_hung_up_at_once(sipp: StartSipp) -> None:
    peer = await sipp("answer")
    async with SipTrunkClient(trunk(peer.port)) as client:
        result = await client.call(NUMBER, policy=CallPolicy(ring_seconds=10))
    assert result.codes == (100, 180, 200)
    assert (result.ended_by, result.final_code, result.error) == ("answered", 200, None)
    assert result.responses[-1].has_sdp
    assert await peer.finish() == 0, peer.errors()  # SIPp saw the ACK and the BYE


async def test_200_after_cancel_is_acked_and_hung_up(sipp: StartSipp) -> None:
    peer = await sipp("race")
    async with SipTrunkClient(trunk(peer.port)) as client:
        result = await client.call(NUMBER)
    assert result.codes == (100, 180, 200)
    assert result.ended_by == "answered"
    assert await peer.finish() == 0, peer.errors()
    assert len(peer.received("CANCEL")) == 1 and len(peer.received("BYE")) == 1


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        (404, "Not Found"),
        (410, "Gone"),
        (486, "Busy Here"),
        (503, "Service Unavailable"),
        (603, "Decline"),
        (600, "Busy Everywhere"),
        (604, "Does Not Exist Anywhere"),
        (484, "Address Incomplete"),
        (480, "Temporarily Unavailable"),
        (408, "Request Timeout"),
        (500, "Server Internal Error"),
        (502, "Bad Gateway"),
        (504, "Server Time-out"),
        (403, "Forbidden"),
    ],
)
async def test_final_rejections_are_acked(sipp: StartSipp, code: int, phrase: str) -> None:
    peer = await sipp("reject", code=str(code), phrase=phrase)
    async with SipTrunkClient(trunk(peer.port)) as client:
        result = await client.call(NUMBER)
    assert result.codes == (100, code)
    assert (result.ended_by, result.final_code) == ("final", code)
    assert result.responses[-1].reason == phrase
    assert result.q850_cause is None
    assert await peer.finish() == 0, peer.errors()
    assert len(peer.received("ACK")) >= 1


async def test_reason_header_with_q850_cause(sipp: StartSipp) -> None:
    peer = await sipp(
        "reject_reason",
        code="480",
        phrase="Temporarily Unavailable",
        cause="18",
        text="No user responding",
    )
    async with SipTrunkClient(trunk(peer.port)) as client:
        result = await client.call(NUMBER)
    assert result.final_code == 480
    final = result.responses[-1]
    assert final.q850_cause == 18 and result.q850_cause == 18
    assert final.reason_header is not None and "SIP;cause=480" in final.reason_header
    assert await peer.finish() == 0, peer.errors()


async def test_no_answer_retransmits_then_gives_up_at_timer_b(sipp: StartSipp) -> None:
    peer = await sipp("no_answer", wait=str(int(64 * T1 * 1000) + 500))
    async with SipTrunkClient(trunk(peer.port)) as client:
        result = await client.call(NUMBER)
    assert (result.ended_by, result.final_code, result.codes) == ("no_response", None, ())
    assert 64 * T1 * 1000 <= result.duration_ms < 64 * T1 * 1000 + 500
    assert await peer.finish() == 0, peer.errors()
    # Timer A: sent at 0, T1, 3T1, 7T1, 15T1, 31T1, 63T1 before Timer B fires at 64T1.
    assert len(peer.received("INVITE")) == 7


async def test_unanswered_first_invite_is_retransmitted(sipp: StartSipp) -> None:
    peer = await sipp("late_answer", wait=str(int(T1 * 1000 * 2.5)))
    async with SipTrunkClient(trunk(peer.port)) as client:
        result = await client.call(NUMBER)
    assert (result.ended_by, result.final_code) == ("final", 404)
    assert await peer.finish() == 0, peer.errors()
    invites = peer.received("INVITE")
    assert len(invites) >= 2
    branches = {line for chunk in invites for line in chunk.splitlines() if "branch=" in line}
    assert len(branches) == 1  # retransmissions, not new transactions


async def test_digest_challenge_is_answered(sipp: StartSipp) -> None:
    peer = await sipp("auth")
    config = trunk(peer.port, username="prober", password="s3cret")
    async with SipTrunkClient(config) as client:
        result = await client.call(NUMBER)
    assert result.codes == (401, 100, 180, 487)
    assert result.ended_by == "cancelled"
    assert await peer.finish() == 0, peer.errors()
    invites = peer.received("INVITE")
    assert len(invites) == 2
    assert "CSeq: 2 INVITE" in invites[1] and "Authorization: Digest" in invites[1]


async def test_rejected_credentials_are_an_auth_failure(sipp: StartSipp) -> None:
    peer = await sipp("auth")
    config = trunk(peer.port, username="prober", password="wrong")
    async with SipTrunkClient(config) as client:
        result = await client.call(NUMBER)
    assert result.codes == (401, 401)
    assert (result.ended_by, result.final_code) == ("auth_failed", 401)
    assert await peer.finish() == 0, peer.errors()


def _digest_params(header: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', header)}


async def test_proxy_digest_challenge_is_answered(sipp: StartSipp) -> None:
    peer = await sipp("proxy_auth")
    config = trunk(peer.port, username="prober", password="s3cret")
    async with SipTrunkClient(config) as client:
        result = await client.call(NUMBER)
    assert result.codes == (407, 100, 180, 487)
    assert result.ended_by == "cancelled"
    assert await peer.finish() == 0, peer.errors()
    invites = peer.received("INVITE")
    assert len(invites) == 2
    assert "CSeq: 2 INVITE" in invites[1] and "\nAuthorization:" not in invites[1]
    (header,) = [line for line in invites[1].splitlines() if line.startswith("Proxy-Auth")]
    p = _digest_params(header.split(":", 1)[1])
    assert (p["username"], p["realm"], p["qop"]) == ("prober", "sipp.test", "auth")
    # RFC 2617 3.2.2, computed here independently of the client's digest module.
    ha1 = hashlib.md5(b"prober:sipp.test:s3cret").hexdigest()
    ha2 = hashlib.md5(f"INVITE:{p['uri']}".encode()).hexdigest()
    expected = f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:auth:{ha2}"
    assert p["response"] == hashlib.md5(expected.encode()).hexdigest()


async def test_refused_proxy_credentials_are_an_auth_failure(sipp: StartSipp) -> None:
    peer = await sipp("proxy_auth_refused")
    config = trunk(peer.port, username="prober", password="s3cret")
    async with SipTrunkClient(config) as client:
        result = await client.call(NUMBER)
    assert result.codes == (407, 407)
    assert (result.ended_by, result.final_code) == ("auth_failed", 407)
    assert await peer.finish() == 0, peer.errors()  # both 407s were ACKed


def _write_ulaw(path: Path, samples: np.ndarray) -> str:
    path.write_bytes(ulaw_encode(np.clip(samples * 32767, -32768, 32767).astype(np.int16)))
    return str(path)


def _tone(freqs: tuple[float, ...], ms: int) -> np.ndarray:
    t = np.arange(8 * ms) / 8000
    return sum((0.2 / len(freqs) * np.sin(2 * np.pi * f * t) for f in freqs), np.zeros(len(t)))


async def test_early_media_sit_is_heard_and_cancels_early(sipp: StartSipp, tmp_path: Path) -> None:
    audio = np.concatenate(
        [
            np.zeros(800),
            _tone((985.2,), 380),
            _tone((1370.6,), 274),
            _tone((1776.7,), 380),
            np.zeros(16000),
        ]
    )
    peer = await sipp("early_media", audio=_write_ulaw(tmp_path / "sit.ulaw", audio))
    async with SipTrunkClient(trunk(peer.port)) as client:
        result = await client.call(NUMBER, policy=CallPolicy(early_media_seconds=4.0))
    assert result.codes == (100, 183, 487)
    assert result.responses[1].has_sdp
    media = result.early_media
    assert media is not None
    assert (media.finding, media.sit_kind, media.codec) == ("sit", "vacant_code", "PCMU")
    assert media.packets > 20
    assert media.listened_ms < 2500  # cancelled on the SIT, not after 4 s
    assert result.ended_by == "cancelled"
    assert await peer.finish() == 0, peer.errors()


async def test_early_media_ringback_is_listened_to_for_the_window(
    sipp: StartSipp, tmp_path: Path
) -> None:
    burst = _tone((400.0, 425.0, 450.0), 400)
    cycle = np.concatenate([burst, np.zeros(1600), burst, np.zeros(16000)])
    peer = await sipp("early_media", audio=_write_ulaw(tmp_path / "ring.ulaw", cycle))
    async with SipTrunkClient(trunk(peer.port, timers=FAST)) as client:
        result = await client.call(NUMBER, policy=CallPolicy(early_media_seconds=1.5))
    media = result.early_media
    assert media is not None and media.finding == "ringback"
    assert 1400 <= media.listened_ms <= 1800
    assert result.ended_by == "cancelled"
    assert await peer.finish() == 0, peer.errors()
