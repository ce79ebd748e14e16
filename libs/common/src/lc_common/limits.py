"""A cap on request bodies, enforced before an application reads them.

`BodyLimitMiddleware` refuses (413) a request whose declared Content-Length is
over the route's cap without reading a byte of it, and stops a chunked body as
soon as more than the cap has arrived. The error is the JSON envelope every
service answers with: `{"error": {"code": "body_too_large", "message"}}` (or the
route's own code).

Every service's app gets the layer from `lc_common.service.create_service_app`,
with the caps of `service_body_limit` unless the service gives its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lc_common.settings import BodyLimitSettings

DEFAULT_BODY_LIMIT = 64 * 1024
BODY_TOO_LARGE = "body_too_large"


@dataclass(frozen=True)
class Cap:
    """The most bytes a body may have, and the error code a larger one is refused with."""

    limit: int
    code: str = BODY_TOO_LARGE


# Given a request's scope, its body's cap.
LimitFor = Callable[[Scope], Cap]

INTERNAL_PREFIX = "/internal/"
# The internal API's upload routes: ingest serves them, the gateway forwards a
# client's CSV to them (multipart, the file and a few short fields).
INTERNAL_UPLOAD_PATHS = ("/internal/v1/imports/preview", "/internal/v1/batches")
# Room for an upload's other form fields and multipart framing beyond the file's cap.
UPLOAD_FORM_ROOM = 64 * 1024
FILE_TOO_LARGE = "file_too_large"
# Routes that cap their own bodies at `max_body_bytes` and answer with their own code
# (billing's payment webhook): the layer's cap, twice theirs, only bounds what they read.
SELF_CAPPED_PREFIXES = ("/webhooks/",)


@dataclass(frozen=True)
class RouteCap:
    """The cap of the requests to a path: exactly `path`, or under it if it ends with "/";
    only those of `method` if one is given."""

    path: str
    cap: Cap
    method: str | None = None

    def matches(self, scope: Scope) -> bool:
        """Whether the request of `scope` is one of this route's."""
        if self.method is not None and scope.get("method") != self.method:
            return False
        path: str = scope["path"]
        return path.startswith(self.path) if self.path.endswith("/") else path == self.path


class RouteCaps:
    """A `LimitFor`: the cap of the first route a request matches, else `default`."""

    def __init__(self, default: Cap, routes: Sequence[RouteCap] = ()) -> None:
        self.default = default
        self.routes = tuple(routes)

    def __call__(self, scope: Scope) -> Cap:
        for route in self.routes:
            if route.matches(scope):
                return route.cap
        return self.default


def service_body_limit(limits: BodyLimitSettings) -> RouteCaps:
    """The caps of a service's app: uploads to the internal upload routes (POST) at the
    upload cap plus room for the form; other `/internal/` calls at the internal cap;
    routes that cap their own body at twice `max_body_bytes`; every other body at
    `max_body_bytes`."""
    upload = Cap(limits.max_upload_bytes + UPLOAD_FORM_ROOM, FILE_TOO_LARGE)
    return RouteCaps(
        Cap(limits.max_body_bytes),
        [RouteCap(path, upload, "POST") for path in INTERNAL_UPLOAD_PATHS]
        + [RouteCap(INTERNAL_PREFIX, Cap(limits.max_internal_body_bytes))]
        + [RouteCap(prefix, Cap(2 * limits.max_body_bytes)) for prefix in SELF_CAPPED_PREFIXES],
    )


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its cap (an HTTP 413).

    An `HTTPException`, so frameworks that turn body-parsing errors into 400
    (FastAPI) let it through, and an app's own handler can render it.
    """

    def __init__(self, cap: Cap) -> None:
        super().__init__(413, body_too_large_message(cap.limit))
        self.limit = cap.limit
        self.code = cap.code


async def render_body_too_large(_: Request, exc: Exception) -> Response:
    """The app's answer to a `BodyTooLarge` raised while it read a body: the JSON
    envelope with the cap's code (an exception handler, registered by the service
    factory ahead of any generic HTTPException handler of the service)."""
    assert isinstance(exc, BodyTooLarge)
    message = body_too_large_message(exc.limit)
    return JSONResponse({"error": {"code": exc.code, "message": message}}, 413)


def body_too_large_message(limit: int) -> str:
    """The message clients see for a body over `limit` bytes."""
    return f"The request body is larger than the limit of {limit} bytes ({limit / 2**20:.1f} MiB)."


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length header as a number, or None if absent or malformed."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


class BodyLimitMiddleware:
    """Refuse request bodies over their route's cap (`limit_for(scope)`, in bytes)."""

    def __init__(self, app: ASGIApp, *, limit_for: LimitFor | None = None) -> None:
        self.app = app
        self.limit_for = limit_for or (lambda scope: Cap(DEFAULT_BODY_LIMIT))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.limit_for(scope)
        declared = declared_length(scope)
        if declared is not None and declared > cap.limit:
            await _refuse(send, cap)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap.limit:
                    raise BodyTooLarge(cap)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            # The app let it through unrendered; answer it here if we still can.
            if started:
                raise
            await _refuse(send, cap)


async def _refuse(send: Send, cap: Cap) -> None:
    message = body_too_large_message(cap.limit)
    body = json.dumps({"error": {"code": cap.code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            # No `Connection: close`: closing with the client's bytes unread resets the
            # connection, and the client may lose this answer. The server discards the
            # rest of the body unread.
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
