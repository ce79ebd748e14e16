"""Server-side sessions of the control panel: opening, saving and ending them.

The cookie holds only a random id; what the session knows (user, account, CSRF
token, flashes) is a record in the `SessionStore` of `ports.py`. So a session
ends when its record goes: at logout, when the user's password changes or the
user is removed, after `idle` without a request, and `absolute` after it began,
whatever a client kept of the cookie. The rules are in `domain/sessions.py`;
the cookie and the request scope are `edge/session_cookie.py`'s.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lc_common.clock import Clock
from lc_gateway.domain.sessions import (
    SESSION_USER,
    SessionRecord,
    expired,
    new_session_id,
    save_action,
    worth_looking_up,
)
from lc_gateway.ports import SessionStore

__all__ = ["SESSION_USER", "Sessions"]


class Sessions:
    """Opening, saving and ending sessions under one idle and one absolute timeout."""

    def __init__(
        self, store: SessionStore, clock: Clock, *, idle: timedelta, absolute: timedelta
    ) -> None:
        self.store = store
        self.clock = clock
        self.idle = idle
        self.absolute = absolute

    async def open(self, token: str | None) -> SessionRecord | None:
        """The live session with this id; an expired one is deleted and None returned."""
        if token is None or not worth_looking_up(token):
            return None
        record = await self.store.load(token)
        if record is None:
            return None
        if expired(record, self.clock.now(), self.idle, self.absolute):
            await self.store.delete(token)
            return None
        return record

    async def save(self, record: SessionRecord | None, data: dict[str, Any]) -> str | None:
        """Write `data` back; the new cookie id when one must be sent, else None.

        Empty data ends the session. A session whose user changed (a login) gets
        a new id, so an id planted before the login is worth nothing after it.
        """
        now = self.clock.now()
        action = save_action(record, data, now)
        if action in ("end", "begin") and record is not None:
            await self.store.delete(record.token)
        if action == "begin":
            token = new_session_id()
            await self.store.insert(SessionRecord(token, data.get(SESSION_USER), data, now, now))
            return token
        if action == "write" and record is not None:
            await self.store.save(record.token, data, now)
        return None

    async def end_user_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        """End every session of a user but `keep` (password changed, user removed); how many."""
        return await self.store.delete_user_sessions(user_id, keep)
