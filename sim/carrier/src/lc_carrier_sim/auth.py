"""Digest authentication as a carrier demands it: stateless HMAC nonces, MD5, qop=auth."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time

from lc_carrier_sim.rules import AuthConfig

_PARAM_RE = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]+)')
NONCE_TTL = 300.0


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def parse_params(value: str) -> dict[str, str]:
    """Parameters of a Digest Authorization header."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return {}
    params = {}
    for key, raw in _PARAM_RE.findall(rest):
        params[key.lower()] = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
    return params


class DigestAuthenticator:
    """Issues challenges and verifies credentials for one username/password."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._secret = os.urandom(16)

    def _sign(self, stamp: str) -> str:
        return hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:20]

    def challenge(self) -> str:
        """A WWW-Authenticate value with a fresh nonce."""
        stamp = f"{int(time.time()):x}"
        nonce = f"{stamp}{self._sign(stamp)}"
        value = f'Digest realm="{self.config.realm}", nonce="{nonce}", algorithm=MD5'
        if self.config.qop == "auth":
            value += ', qop="auth"'
        return value

    def _nonce_ok(self, nonce: str) -> bool:
        stamp, sig = nonce[:-20], nonce[-20:]
        if not stamp or not hmac.compare_digest(sig, self._sign(stamp)):
            return False
        try:
            return time.time() - int(stamp, 16) <= NONCE_TTL
        except ValueError:
            return False

    def verify(self, method: str, authorization: str) -> bool:
        """Whether an Authorization value answers one of our challenges correctly."""
        p = parse_params(authorization)
        cfg = self.config
        if p.get("username") != cfg.username or p.get("realm") != cfg.realm:
            return False
        nonce, uri, response = p.get("nonce", ""), p.get("uri", ""), p.get("response", "")
        if not self._nonce_ok(nonce) or p.get("algorithm", "MD5").upper() != "MD5":
            return False
        ha1 = _md5(f"{cfg.username}:{cfg.realm}:{cfg.password}")
        ha2 = _md5(f"{method}:{uri}")
        qop = p.get("qop")
        if qop == "auth":
            expected = _md5(f"{ha1}:{nonce}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}")
        elif qop is None and cfg.qop == "none":
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        else:
            return False
        return hmac.compare_digest(expected, response.lower())
