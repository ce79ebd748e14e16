"""How API keys and passwords are made, recognised and kept.

An API key is random (256 bits) and stored only as its SHA-256, so it is shown
once, when issued, and a person recognises it later by its prefix. A password is
stored as an argon2id hash.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

API_KEY_PREFIX = "lc_live_"
_API_KEY_RE = re.compile(r"^lc_live_[A-Za-z0-9_-]{32,64}$")

_hasher = PasswordHasher()
DUMMY_PASSWORD_HASH = _hasher.hash(secrets.token_urlsafe(16))
"""Verified against when the login is unknown, so both answers take as long."""


def new_api_key() -> str:
    """A new random API key: `lc_live_` followed by 43 URL-safe characters (256 bits)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def looks_like_api_key(value: str) -> bool:
    """True when `value` has the shape of a key; a cheap filter before any lookup."""
    return bool(_API_KEY_RE.match(value))


def hash_api_key(key: str) -> str:
    """The stored form of a key: hex SHA-256. Keys are random, so no salt or slow hash is needed."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str:
    """The first characters of a key, enough for a person to recognise it in a list."""
    return key[: len(API_KEY_PREFIX) + 6]


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches `password_hash`."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's (rehash on login)."""
    return _hasher.check_needs_rehash(password_hash)
