"""lc_sip.message and lc_sip.address: the lean parser, checked against sipmessage.

Random messages (seeded, so a failure reproduces) are parsed by both; every header the
reference returns must come back the same from the lean parser, whatever the case or
compact form of its name, however many lines it takes.
"""

from __future__ import annotations

import random

import pytest
from sipmessage import Message, Request, Response

from lc_sip.address import address_param, address_uri, addresses, format_address, split_list
from lc_sip.headers import _BRANCH_RE, via_branch
from lc_sip.message import SipRequest, SipResponse, parse_message, render, response_to

RESPONSE = (
    b"SIP/2.0 183 Session Progress\r\n"
    b"v: SIP/2.0/UDP 10.0.0.1:5099;branch=z9hG4bKtop;rport=5099, SIP/2.0/UDP p1;branch=z9hG4bKp\r\n"
    b"Via: SIP/2.0/UDP p2;branch=z9hG4bKp2\r\n"
    b'f: "Lead Cleanser" <sip:lc@trunk>;tag=ftag\r\n'
    b"t: <sip:+61212345678@trunk>;tag=ttag\r\n"
    b"i: abc@10.0.0.1\r\n"
    b"CSeq: 2 invite\r\n"
    b"m: <sip:gw@198.51.100.7:5080>\r\n"
    b'REASON: Q.850;cause=16;text="Normal, call clearing"\r\n'
    b"reason: SIP;cause=480\r\n"
    b"Retry-After: 120 (busy);duration=60\r\n"
    b'WWW-Authenticate: Digest realm="r", nonce="n",\r\n'
    b'  qop="auth,auth-int"\r\n'
    b"c: application/sdp\r\n"
    b"l: 5\r\n"
    b"\r\n"
    b"v=0\r\nextra past Content-Length"
)


def test_a_response_with_compact_folded_and_repeated_headers() -> None:
    resp = parse_message(RESPONSE)
    assert isinstance(resp, SipResponse)
    assert (resp.code, resp.phrase) == (183, "Session Progress")
    assert resp.top_branch == "z9hG4bKtop"
    assert resp.getlist("VIA") == [
        "SIP/2.0/UDP 10.0.0.1:5099;branch=z9hG4bKtop;rport=5099, SIP/2.0/UDP p1;branch=z9hG4bKp",
        "SIP/2.0/UDP p2;branch=z9hG4bKp2",
    ]
    assert resp.call_id == resp.get("I") == "abc@10.0.0.1"
    assert resp.cseq() == (2, "INVITE")
    assert resp.getlist("Reason") == [
        'Q.850;cause=16;text="Normal, call clearing"',
        "SIP;cause=480",
    ]
    assert resp.get("retry-after") == "120 (busy);duration=60"
    assert resp.get("www-authenticate") == 'Digest realm="r", nonce="n", qop="auth,auth-int"'
    assert resp.body == b"v=0\r\n" and resp.has_sdp
    assert address_param(resp.get("to") or "", "tag") == "ttag"
    assert address_uri(resp.get("contact") or "") == "sip:gw@198.51.100.7:5080"
    assert resp.get("absent") is None and resp.getlist("absent") == []


def test_a_request_and_the_response_built_from_it() -> None:
    req = parse_message(
        b"\r\nBYE sip:lc@10.0.0.1:5099 SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"
        b"Via: SIP/2.0/UDP b;branch=z9hG4bK2\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n"
        b"Call-ID: x\r\nCSeq: 7 BYE\r\nContent-Length: 0\r\n\r\n"
    )
    assert isinstance(req, SipRequest)
    assert (req.method, req.uri) == ("BYE", "sip:lc@10.0.0.1:5099")
    out = Message.parse(response_to(req, 200, "OK"))
    assert isinstance(out, Response) and out.code == 200
    assert out.headers.getlist("Via") == req.getlist("via")
    assert out.headers["CSeq"] == "7 BYE" and out.headers["To"] == "<sip:c@d>;tag=2"
    assert out.content_length == 0


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"SIP/2.0 200 OK\r\nCall-ID: a\r\n",  # no blank line
        b"SIP/2.0 2000 OK\r\n\r\n",
        b"SIP/2.0 abc OK\r\n\r\n",
        b"HELLO\r\n\r\n",
        b"INVITE sip:a@b HTTP/1.1\r\n\r\n",
        b"SIP/2.0 200 OK\r\nno colon here\r\n\r\n",
        b"SIP/2.0 200 OK\r\nX: \xff\xfe\r\n\r\n",
    ],
)
def test_what_is_not_sip_raises_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_message(data)


def test_a_status_line_without_a_phrase_and_space_before_a_colon() -> None:
    # sipmessage refuses the first and files "Call-ID :" under "call-id " (RFC 3261 HCOLON).
    resp = parse_message(b"SIP/2.0 100\r\nCall-ID\t :  x@y \r\nContent-Length: 0\r\n\r\n")
    assert isinstance(resp, SipResponse) and (resp.code, resp.phrase) == (100, "")
    assert resp.call_id == "x@y"


def test_render_writes_content_length_last() -> None:
    data = render("SIP/2.0 200 OK", [("To", "<sip:a@b>"), ("Content-Type", "x/y")], b"body")
    assert data == (
        b"SIP/2.0 200 OK\r\nTo: <sip:a@b>\r\nContent-Type: x/y\r\nContent-Length: 4\r\n\r\nbody"
    )


def test_address_lists_and_uris() -> None:
    assert split_list('"a, b" <sip:x@y;p=1,2>, <sip:z@w> ,, sip:q@r') == [
        '"a, b" <sip:x@y;p=1,2>',
        "<sip:z@w>",
        "sip:q@r",
    ]
    assert split_list("  ") == []
    assert addresses(["<sip:a@b>, <sip:c@d>", "<sip:e@f>"]) == [
        "<sip:a@b>",
        "<sip:c@d>",
        "<sip:e@f>",
    ]
    assert address_uri("sip:a@b;transport=tcp;tag=x") == "sip:a@b"
    assert address_uri('"<not a uri>" <sip:a@b;lr>;tag=x') == "sip:a@b;lr"
    assert address_param('"x;tag=no" <sip:a@b;tag=no>;TAG=yes', "tag") == "yes"
    assert address_param("sip:a@b;tag=t", "tag") == "t"
    assert address_param("<sip:a@b>", "tag") is None
    assert format_address("sip:a@b", display='x "y"', params=(("tag", "1"),)) == (
        '"x \\"y\\"" <sip:a@b>;tag=1'
    )
    with pytest.raises(ValueError):
        address_uri("<sip:a@b")


# -- differential: random messages through both parsers -----------------------------------

HEADERS = [
    ("Via", "v", ["SIP/2.0/UDP 10.0.0.{n}:5060;branch=z9hG4bK{n}", "SIP/2.0/TCP h{n};rport"]),
    ("From", "f", ['"N {n}" <sip:u{n}@h>;tag={n}', "<sip:u@h>;tag=a{n}"]),
    ("To", "t", ["<sip:+6121{n}@h>", "<sip:x@h>;tag=b{n}"]),
    ("Call-ID", "i", ["{n}@host", "call-{n}"]),
    ("CSeq", None, ["{n} INVITE", "{n} BYE"]),
    ("Contact", "m", ["<sip:gw@198.51.100.{n}:5080>", "<sip:a@b>, <sip:c{n}@d>"]),
    ("Record-Route", None, ["<sip:p{n}.example;lr>"]),
    ("Reason", None, ['Q.850;cause={n};text="x, y"', "SIP;cause=4{n}"]),
    ("Retry-After", None, ["{n}", "{n} (busy);duration=5"]),
    ("WWW-Authenticate", None, ['Digest realm="r{n}", nonce="n", qop="auth"']),
    ("Proxy-Authenticate", None, ['Digest realm="p{n}", nonce="m", algorithm=MD5']),
    ("Content-Type", "c", ["application/sdp", "text/plain;charset=utf-8"]),
    ("Supported", "k", ["timer, 100rel", "path"]),
    ("Subject", "s", ["hello {n}"]),
    ("X-Custom-{n}", None, ["value {n}"]),
]


def random_case(rng: random.Random, name: str) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)


def random_message(rng: random.Random) -> tuple[bytes, list[str]]:
    """A random message and the (full) names of the headers it carries."""
    if rng.random() < 0.5:
        code = rng.choice([100, 180, 183, 200, 401, 404, 407, 486, 503])
        start = f"SIP/2.0 {code} Phrase with  spaces {rng.randrange(99)}"
    else:
        start = f"{rng.choice(['INVITE', 'BYE', 'OPTIONS'])} sip:+6121{rng.randrange(99)}@h SIP/2.0"
    lines = [start]
    names: list[str] = []
    for _ in range(rng.randrange(1, 18)):
        name, compact, values = rng.choice(HEADERS)
        n = rng.randrange(1000)
        name = name.format(n=n)
        spelled = compact if compact and rng.random() < 0.3 else name
        spelled = random_case(rng, spelled)
        gap = rng.choice(["", " ", "  ", "\t"])
        lines.append(f"{spelled}:{gap}{rng.choice(values).format(n=n)}")
        names.append(name)
    body = rng.choice(
        [b"", b"v=0\r\no=- 1 1 IN IP4 h\r\n", bytes(rng.randrange(256) for _ in range(9))]
    )
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body, names


@pytest.mark.parametrize("seed", range(20))
def test_agrees_with_sipmessage_on_random_messages(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        data, names = random_message(rng)
        ours = parse_message(data)
        ref = Message.parse(data)
        assert ours.body == ref.body
        if isinstance(ref, Response):
            assert isinstance(ours, SipResponse)
            assert (ours.code, ours.phrase) == (ref.code, ref.phrase)
        else:
            assert isinstance(ref, Request) and isinstance(ours, SipRequest)
            assert (ours.method, ours.uri) == (ref.method, str(ref.uri))
        for name in [*names, "Content-Length", "Absent"]:
            assert ours.getlist(name) == ref.headers.getlist(name), (name, data)
            assert ours.get(name) == ref.headers.get(name), (name, data)
        assert sorted(ours.headers) == sorted(set(map(str.lower, ref.headers.keys())))


@pytest.mark.parametrize("seed", range(5))
def test_folding_a_header_changes_nothing(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(50):
        data, _ = random_message(rng)
        head, _, body = data.partition(b"\r\n\r\n")
        first, *rest = head.split(b"\r\n")
        # Fold each header line at one of its spaces (RFC 3261 7.3.1).
        folded = [
            line.replace(b" ", b"\r\n" + rng.choice([b" ", b"\t", b"   "]), 1) for line in rest
        ]
        again = parse_message(b"\r\n".join([first, *folded]) + b"\r\n\r\n" + body)
        plain = parse_message(data)
        assert again.headers == plain.headers, data


def test_via_branch_fast_path_agrees_with_the_grammar() -> None:
    rng = random.Random(7)
    for _ in range(500):
        name = random_case(rng, "branch")
        around = [rng.choice(["", " ", "\t"]) for _ in range(3)]
        params = [f";{around[0]}{name}{around[1]}={around[2]}z9hG4bK{rng.randrange(999)}"]
        params.insert(rng.randrange(2), rng.choice([";rport", ";received=1.2.3.4", ""]))
        via = "SIP/2.0/UDP h:5060" + "".join(params) + rng.choice(["", ", SIP/2.0/UDP p"])
        reference = _BRANCH_RE.search(via.split(",", 1)[0])
        assert via_branch(via) == (reference.group(1) if reference else None), via
