"""The session cookie: loads the request's session into its scope and saves it before the answer.

`SessionMiddleware` exposes the session record's data as `scope["session"]`
(what Starlette's `request.session` reads) and writes it back, through
`Sessions`, when the response starts. The cookie holds only the session's
random id and is `HttpOnly`, `SameSite=Lax` and, unless told otherwise, `Secure`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lc_gateway.sessions import Sessions

SESSION_COOKIE = "lc_session"
# Where the middleware leaves the live session's id in the request scope, so a
# password change can end every other session of the user but this one.
SCOPE_TOKEN = "lc_session_token"


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
