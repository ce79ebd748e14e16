"""Panel sessions: when one has expired and what saving it must do (no I/O).

A session is a record named by a random id (the cookie's value). It ends after
`idle` without a request and `absolute` after it began; a login gets a new id,
so an id planted before the login is worth nothing after it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

# The key of the session's data that names its user.
SESSION_USER = "uid"
# A session in use is marked seen at most this often (not a write per request).
TOUCH_EVERY = timedelta(seconds=60)
# Ids are 43 characters; anything much longer is not one of ours and is not looked up.
MAX_ID_LENGTH = 128


@dataclass(frozen=True)
class SessionRecord:
    """One session as stored: `token` is the cookie's id."""

    token: str
    user_id: str | None
    data: dict[str, Any]
    created_at: datetime
    seen_at: datetime


def new_session_id() -> str:
    """A fresh session id: 43 URL-safe characters (256 random bits)."""
    return secrets.token_urlsafe(32)


def worth_looking_up(token: str) -> bool:
    """True when a cookie's value may name a session (not empty, not absurdly long)."""
    return 0 < len(token) <= MAX_ID_LENGTH


def expired(record: SessionRecord, now: datetime, idle: timedelta, absolute: timedelta) -> bool:
    """True when the session went unused for `idle` or began more than `absolute` ago."""
    return now - record.seen_at >= idle or now - record.created_at >= absolute


SaveAction = Literal["nothing", "end", "begin", "write"]


def save_action(record: SessionRecord | None, data: dict[str, Any], now: datetime) -> SaveAction:
    """What saving `data` into the session `record` (None: no session yet) must do.

    `end`: the data is empty, so the session (if any) goes. `begin`: a new id,
    because there was no session or its user changed (a login); the old record
    (if any) goes. `write`: the data changed, or the session was last marked
    seen `TOUCH_EVERY` ago or more. `nothing` otherwise.
    """
    if not data:
        return "end"
    if record is None or data.get(SESSION_USER) != record.user_id:
        return "begin"
    if data != record.data or now - record.seen_at >= TOUCH_EVERY:
        return "write"
    return "nothing"
