"""HTTP digest authentication for SIP (RFC 2617, RFC 7616): MD5/SHA-256, qop auth/auth-int/none."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(?:,|$)')


class DigestError(ValueError):
    """The challenge cannot be answered (unsupported scheme, algorithm or qop)."""


def _h(algorithm: str, data: str) -> str:
    base = algorithm.upper().removesuffix("-SESS")
    try:
        return _HASHES[base](data.encode("utf-8")).hexdigest()
    except KeyError:
        raise DigestError(f"unsupported digest algorithm {algorithm!r}") from None


def digest_response(
    *,
    username: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    algorithm: str = "MD5",
    qop: str | None = None,
    nc: str = "00000001",
    cnonce: str | None = None,
    body: bytes = b"",
) -> str:
    """The ``response`` value of RFC 2617 section 3.2.2.1 (and RFC 7616 section 3.4.1)."""
    ha1 = _h(algorithm, f"{username}:{realm}:{password}")
    if algorithm.upper().endswith("-SESS"):
        if cnonce is None:
            raise DigestError("-sess algorithms need a cnonce")
        ha1 = _h(algorithm, f"{ha1}:{nonce}:{cnonce}")
    if qop == "auth-int":
        body_hash = _HASHES[algorithm.upper().removesuffix("-SESS")](body).hexdigest()
        ha2 = _h(algorithm, f"{method}:{uri}:{body_hash}")
    else:
        ha2 = _h(algorithm, f"{method}:{uri}")
    if qop is None:
        return _h(algorithm, f"{ha1}:{nonce}:{ha2}")
    if cnonce is None:
        raise DigestError("qop needs a cnonce")
    return _h(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """A computed Authorization/Proxy-Authorization value."""

    header_value: str
    response: str


def parse_challenge(value: str) -> tuple[str, dict[str, str]]:
    """(scheme, parameters) of a WWW-Authenticate/Proxy-Authenticate value.

    Parsed here rather than with sipmessage's AuthChallenge, which splits quoted values
    at commas and so rejects the common ``qop="auth,auth-int"``.
    """
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        match = _PARAM_RE.match(rest, pos)
        if match is None or match.end() == pos:
            raise DigestError(f"unparseable challenge: {value!r}")
        raw = match.group(2)
        if raw.startswith('"'):
            raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[match.group(1).lower()] = raw
        pos = match.end()
    if not scheme or not params:
        raise DigestError(f"unparseable challenge: {value!r}")
    return scheme, params


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def answer_challenge(
    challenge_value: str,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    body: bytes = b"",
    nc: int = 1,
    cnonce: str | None = None,
) -> DigestCredentials:
    """Build the credentials answering one WWW-Authenticate/Proxy-Authenticate value."""
    scheme, params = parse_challenge(challenge_value)
    if scheme.lower() != "digest":
        raise DigestError(f"unsupported auth scheme {scheme!r}")
    realm = params.get("realm", "")
    nonce = params.get("nonce")
    if nonce is None:
        raise DigestError("challenge without nonce")
    algorithm = params.get("algorithm", "MD5")
    offered = [q.strip().lower() for q in params.get("qop", "").split(",") if q.strip()]
    qop: str | None
    if not offered:
        qop = None
    elif "auth" in offered:
        qop = "auth"
    elif "auth-int" in offered:
        qop = "auth-int"
    else:
        raise DigestError(f"unsupported qop {offered!r}")
    nc_value = f"{nc:08x}"
    if qop is not None or algorithm.upper().endswith("-SESS"):
        cnonce = cnonce or secrets.token_hex(8)
    response = digest_response(
        username=username,
        password=password,
        realm=realm,
        nonce=nonce,
        method=method,
        uri=uri,
        algorithm=algorithm,
        qop=qop,
        nc=nc_value,
        cnonce=cnonce,
        body=body,
    )
    # Built by hand: qop, nc and algorithm must stay unquoted (RFC 2617 3.2.2), which
    # sipmessage's AuthParameters would quote.
    parts = [
        f"username={_quote(username)}",
        f"realm={_quote(realm)}",
        f"nonce={_quote(nonce)}",
        f"uri={_quote(uri)}",
        f"response={_quote(response)}",
        f"algorithm={algorithm}",
    ]
    if qop is not None:
        parts += [f"qop={qop}", f"nc={nc_value}", f"cnonce={_quote(cnonce or '')}"]
    if "opaque" in params:
        parts.append(f"opaque={_quote(params['opaque'])}")
    return DigestCredentials(header_value="Digest " + ", ".join(parts), response=response)
