"""Digest computation against the RFC 2617 and RFC 7616 examples."""

from __future__ import annotations

import hashlib

import pytest

from lc_prober.adapters.sip.digest import DigestError, answer_challenge, digest_response


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_rfc2617_section_3_5_example() -> None:
    assert (
        digest_response(
            username="Mufasa",
            password="Circle Of Life",
            realm="testrealm@host.com",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
            method="GET",
            uri="/dir/index.html",
            qop="auth",
            nc="00000001",
            cnonce="0a4f113b",
        )
        == "6629fae49393a05397450978507c4ef1"
    )


RFC7616 = dict(
    username="Mufasa",
    password="Circle of Life",
    realm="http-auth@example.org",
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    method="GET",
    uri="/dir/index.html",
    qop="auth",
    nc="00000001",
    cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
)


def test_rfc7616_md5_example() -> None:
    assert digest_response(**RFC7616, algorithm="MD5") == "8ca523f5e9506fed4657c9700eebdbec"


def test_rfc7616_sha256_example() -> None:
    assert digest_response(**RFC7616, algorithm="SHA-256") == (
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    )


def test_no_qop_is_rfc2069_style() -> None:
    ha1 = md5("alice:sip.example:pw")
    ha2 = md5("INVITE:sip:+611@sip.example")
    assert digest_response(
        username="alice",
        password="pw",
        realm="sip.example",
        nonce="n1",
        method="INVITE",
        uri="sip:+611@sip.example",
    ) == md5(f"{ha1}:n1:{ha2}")


def test_answer_challenge_with_qop_auth() -> None:
    creds = answer_challenge(
        'Digest realm="sip.example", nonce="abc", qop="auth,auth-int", opaque="op", algorithm=MD5',
        username="alice",
        password="pw",
        method="INVITE",
        uri="sip:+611@sip.example",
        cnonce="c0ffee",
    )
    expected = digest_response(
        username="alice",
        password="pw",
        realm="sip.example",
        nonce="abc",
        method="INVITE",
        uri="sip:+611@sip.example",
        qop="auth",
        nc="00000001",
        cnonce="c0ffee",
    )
    assert creds.response == expected
    value = creds.header_value
    assert value.startswith("Digest ")
    assert 'uri="sip:+611@sip.example"' in value
    assert "qop=auth," in value and "nc=00000001" in value  # unquoted, as RFC 2617 requires
    assert 'cnonce="c0ffee"' in value and 'opaque="op"' in value
    assert f'response="{expected}"' in value


def test_answer_challenge_without_qop_has_no_cnonce() -> None:
    creds = answer_challenge(
        'Digest realm="r", nonce="n"', username="u", password="p", method="INVITE", uri="sip:x@h"
    )
    assert "cnonce" not in creds.header_value and "qop" not in creds.header_value


@pytest.mark.parametrize(
    "challenge",
    [
        'Basic realm="r"',
        'Digest realm="r"',
        'Digest realm="r", nonce="n", algorithm=SHA-999',
        'Digest realm="r", nonce="n", qop="auth-conf"',
        "garbage",
    ],
)
def test_unanswerable_challenges(challenge: str) -> None:
    with pytest.raises(DigestError):
        answer_challenge(challenge, username="u", password="p", method="INVITE", uri="sip:x@h")
