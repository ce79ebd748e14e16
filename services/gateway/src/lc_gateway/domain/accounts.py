"""Accounts, their users and API keys: the records and the rules on them (no I/O).

An account is a client (a call centre). Its users log into the control panel
with an email and password, as an owner (everything) or a member (no credit
purchases, users or API keys); scripts use API keys, which belong to the
account and act for it as an owner. Only a SHA-256 of a key is kept
(`credentials.py`), so a key is shown once, when it is issued.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from lc_gateway.domain.credentials import hash_api_key, key_prefix, looks_like_api_key

DEFAULT_TIME_ZONE = "Australia/Sydney"
_ACCOUNT_ID_RE = re.compile(r"^acc_[0-9a-f]{6,64}$")

OWNER = "owner"
MEMBER = "member"
ROLES = (OWNER, MEMBER)


@dataclass(frozen=True)
class Account:
    """A client of the service; every batch and transaction belongs to one."""

    id: str
    name: str
    email: str
    time_zone: str
    created_at: datetime


@dataclass(frozen=True)
class User:
    """Someone who logs into the control panel on behalf of an account.

    `login` is the user's email, normalised. A removed user keeps its record
    (`removed_at`) for the audit trail, but its login is freed and it can no
    longer log in.
    """

    id: str
    login: str
    account_id: str
    password_hash: str
    name: str
    role: str
    created_at: datetime | None
    removed_at: datetime | None = None

    @property
    def is_owner(self) -> bool:
        """Owners buy credit and manage users and API keys; members do not."""
        return self.role == OWNER

    @property
    def active(self) -> bool:
        """False once the user was removed."""
        return self.removed_at is None


@dataclass(frozen=True)
class ApiKeyRecord:
    """What is stored about an API key: never the key itself."""

    id: str
    account_id: str
    key_hash: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class IssuedKey:
    """A freshly issued key: `secret` is shown to its owner once."""

    record: ApiKeyRecord
    secret: str


@dataclass(frozen=True)
class CreatedAccount:
    """The outcome of `create_account`: the account, its login and a new API key."""

    account: Account
    login: str
    api_key: str
    created: bool


class LoginTaken(Exception):
    """Another writer registered the same login first."""


def new_id(kind: str) -> str:
    """A fresh id such as `acc_3f9c...`: the kind, an underscore, 24 hex digits."""
    return f"{kind}_{secrets.token_hex(12)}"


def is_account_id(value: str) -> bool:
    """True when `value` has the shape of an account id."""
    return bool(_ACCOUNT_ID_RE.match(value))


def normalise_login(email: str) -> str:
    """Logins are emails compared without case or surrounding spaces."""
    return email.strip().lower()


def new_account(*, name: str, email: str, time_zone: str, now: datetime) -> Account:
    """A new account (fresh id) with its name and address trimmed."""
    return Account(
        id=new_id("acc"),
        name=name.strip(),
        email=email.strip(),
        time_zone=time_zone,
        created_at=now,
    )


def new_user(
    *, account_id: str, email: str, name: str, role: str, password_hash: str, now: datetime
) -> User:
    """A new active user (fresh id) of an account; `ValueError` for an unknown role."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return User(
        id=new_id("usr"),
        login=normalise_login(email),
        account_id=account_id,
        password_hash=password_hash,
        name=name.strip(),
        role=role,
        created_at=now,
    )


def new_api_key_record(account_id: str, secret: str, now: datetime) -> ApiKeyRecord:
    """What is stored of the freshly made key `secret`: its hash and prefix, never itself."""
    return ApiKeyRecord(
        id=new_id("key"),
        account_id=account_id,
        key_hash=hash_api_key(secret),
        prefix=key_prefix(secret),
        created_at=now,
    )


def key_opens(record: ApiKeyRecord | None, key: str) -> bool:
    """True when `key` is the stored, unrevoked key of `record`.

    The record was found by the key's hash already; the hashes are compared
    again in constant time for good measure.
    """
    if record is None or record.revoked_at is not None or not looks_like_api_key(key):
        return False
    return hmac.compare_digest(record.key_hash, hash_api_key(key))


def acts_as_owner(user: User | None) -> bool:
    """Who may buy credit and manage users and keys: an owner, or an API key (`None`)."""
    return user is None or user.is_owner


def role_problem(role: str) -> str | None:
    """Why `role` cannot be given to a user, or None."""
    return None if role in ROLES else f"The role is one of {', '.join(ROLES)}."


def session_user_fits(user: User | None, account: Account | None) -> bool:
    """True when a session's user is still active and still belongs to the session's account."""
    return (
        user is not None and account is not None and user.active and user.account_id == account.id
    )


RemovalRefusal = Literal["not_found", "self"]


def removal_refusal(owner: User, target: User | None) -> RemovalRefusal | None:
    """Why `owner` may not remove `target`, or None.

    A user of another account is `not_found`, like a missing one (no id of
    another account is confirmed); an owner cannot remove themself, so an
    account always keeps an owner. The caller checked that `owner` is one.
    """
    if target is None or not target.active or target.account_id != owner.account_id:
        return "not_found"
    if target.id == owner.id:
        return "self"
    return None
