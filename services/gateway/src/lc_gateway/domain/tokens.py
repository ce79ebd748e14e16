"""Single-use links sent by mail: invitations and password resets (rules, no I/O).

A link carries a random token (`secrets.token_urlsafe(32)`, 256 bits); only its
SHA-256 is stored, so a copy of the store opens nothing. A token is usable
until it expires or is used once, whichever comes first.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from lc_gateway.domain.accounts import new_id

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

MIN_PASSWORD_LENGTH = 10
# Argon2 hashes any length, but nobody types more; a cap keeps the work bounded.
MAX_PASSWORD_LENGTH = 256
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 320


@dataclass(frozen=True)
class Invitation:
    """An owner's invitation of `email` into an account, with the role it will have."""

    id: str
    token_hash: str
    account_id: str
    email: str
    role: str
    invited_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class PasswordReset:
    """A request to set a forgotten password of one user."""

    token_hash: str
    user_id: str
    account_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


def new_token() -> str:
    """A fresh link token: 43 URL-safe characters (256 random bits)."""
    return secrets.token_urlsafe(32)


def looks_like_token(value: str) -> bool:
    """True when `value` has the shape of a token; a cheap filter before any lookup."""
    return bool(_TOKEN_RE.match(value))


def token_hash(token: str) -> str:
    """The stored form of a token: hex SHA-256 (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_invitation(
    *,
    token: str,
    account_id: str,
    email: str,
    role: str,
    invited_by: str,
    now: datetime,
    ttl: timedelta,
) -> Invitation:
    """The invitation a link with `token` opens, valid for `ttl` from `now`."""
    return Invitation(
        id=new_id("inv"),
        token_hash=token_hash(token),
        account_id=account_id,
        email=email,
        role=role,
        invited_by=invited_by,
        created_at=now,
        expires_at=now + ttl,
    )


def new_reset(
    *, token: str, user_id: str, account_id: str, now: datetime, ttl: timedelta
) -> PasswordReset:
    """The reset a link with `token` opens, valid for `ttl` from `now`."""
    return PasswordReset(
        token_hash=token_hash(token),
        user_id=user_id,
        account_id=account_id,
        created_at=now,
        expires_at=now + ttl,
    )


def usable(expires_at: datetime, used_at: datetime | None, now: datetime) -> bool:
    """True while a token was never used and `now` is before its expiry."""
    return used_at is None and now < expires_at


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Choose a password of at most {MAX_PASSWORD_LENGTH} characters."
    return None


def email_problem(email: str) -> str | None:
    """Why an address cannot be a login, or None when it looks like one."""
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL_RE.match(email):
        return "Enter a valid email address."
    return None


def name_problem(name: str) -> str | None:
    """Why a person's name is refused, or None."""
    if not name.strip():
        return "Enter your name."
    if len(name) > MAX_NAME_LENGTH:
        return f"A name has at most {MAX_NAME_LENGTH} characters."
    return None
