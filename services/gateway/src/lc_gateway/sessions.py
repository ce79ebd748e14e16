"""Server-side sessions for the control panel.

The cookie holds only a random id (`secrets.token_urlsafe(32)`); what the
session knows (user, account, CSRF token, flashes) is a record in the store.
So a session ends when its record goes: at logout, when the user's password
changes or the user is removed, after `idle` without a request, and `absolute`
after it began, whatever a client kept of the cookie.

`SessionMiddleware` exposes the record's data as `scope["session"]` (what
Starlette's `request.session` reads) and writes it back before the response.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lc_common.clock import Clock
from lc_gateway.ports import SessionStore

SESSION_COOKIE = "lc_session"
SESSION_USER = "uid"
# Where the middleware leaves the live session's id in the request scope, so a
# password change can end every other session of the user but this one.
SCOPE_TOKEN = "lc_session_token"
# A session in use is marked seen at most this often (not a write per request).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionRecord:
    """One session as stored: `token` is the cookie's id."""

    token: str
    user_id: str | None
    data: dict[str, Any]
    created_at: datetime
    seen_at: datetime


def expired(record: SessionRecord, now: datetime, idle: timedelta, absolute: timedelta) -> bool:
    """True when the session went unused for `idle` or began more than `absolute` ago."""
    return now - record.seen_at >= idle or now - record.created_at >= absolute


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
        if not token or len(token) > 128:
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
        if not data:
            if record is not None:
                await self.store.delete(record.token)
            return None
        user_id = data.get(SESSION_USER)
        if record is None or user_id != record.user_id:
            if record is not None:
                await self.store.delete(record.token)
            token = secrets.token_urlsafe(32)
            await self.store.insert(SessionRecord(token, user_id, data, now, now))
            return token
        if data != record.data or now - record.seen_at >= TOUCH_EVERY:
            await self.store.save(record.token, data, now)
        return None

    async def end_user_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        """End every session of a user but `keep` (password changed, user removed); how many."""
        return await self.store.delete_user_sessions(user_id, keep)


def cookie_token(scope: Scope, name: str = SESSION_COOKIE) -> str | None:
    """The session id the request's Cookie header carries, if any."""
    for header, value in scope.get("headers", []):
        if header == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return None
            morsel = jar.get(name)
            if morsel is not None:
                return morsel.value
    return None


class SessionMiddleware:
    """Loads the request's session into `scope["session"]` and saves it before responding."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        sessions_of: Callable[[Scope], Sessions],
        secure: bool,
        cookie: str = SESSION_COOKIE,
    ) -> None:
        self.app = app
        self.sessions_of = sessions_of
        self.secure = secure
        self.cookie = cookie

    def _set_cookie(self, token: str, max_age: int) -> bytes:
        parts = [f"{self.cookie}={token}", "Path=/", f"Max-Age={max_age}", "HttpOnly"]
        parts.append("SameSite=Lax")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sessions = self.sessions_of(scope)
        sent = cookie_token(scope, self.cookie)
        record = await sessions.open(sent)
        data: dict[str, Any] = copy.deepcopy(record.data) if record else {}
        scope["session"] = data
        scope[SCOPE_TOKEN] = record.token if record else None

        async def saving_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                new_token = await sessions.save(record, data)
                headers = list(message.get("headers", []))
                if new_token is not None:
                    max_age = int(sessions.absolute.total_seconds())
                    headers.append((b"set-cookie", self._set_cookie(new_token, max_age)))
                elif sent and (record is None or not data):
                    # A cookie that names no live session is told to go away.
                    headers.append((b"set-cookie", self._set_cookie("", 0)))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, saving_send)
