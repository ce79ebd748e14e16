"""Per-request logging and metrics: a request id, the account, the route, the timing.

A plain ASGI middleware (not `BaseHTTPMiddleware`) so streamed uploads and
downloads pass through untouched and are timed to their last byte.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lc_gateway.metrics import REQUEST_SECONDS, REQUESTS

log = structlog.get_logger("lc_gateway.access")

REQUEST_ID_HEADER = "x-request-id"
_CLEAN_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Not worth a log line each: probes and scrapes.
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's `X-Request-Id` if it is a sane token, else a new one."""
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            if _CLEAN_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """The matched route's template (`/api/v1/batches/{batch_id}`), never the raw path.

    Rebuilt from the path and its matched parameters, which works the same for
    routes of nested routers and mounts; `unmatched` when no route matched.
    """
    if scope.get("endpoint") is None and scope.get("route") is None:
        return "unmatched"
    path: str = scope.get("path", "")
    for name, value in (scope.get("path_params") or {}).items():
        text = str(value)
        at = path.rfind("/" + text)
        if text and at >= 0:
            path = f"{path[: at + 1]}{{{name}}}{path[at + 1 + len(text) :]}"
    return path


class ObservabilityMiddleware:
    """Binds `request_id` (and later `account_id`) to logs; counts and times every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers", []))
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = route_of(scope)
                method = scope["method"]
                REQUESTS.labels(route, method, str(status)).inc()
                REQUEST_SECONDS.labels(route, method).observe(elapsed)
                if scope["path"] not in _QUIET_PATHS:
                    account_id = scope.get("state", {}).get("account_id")
                    log.info(
                        "request",
                        method=method,
                        # A mailed link's token is a credential: logged as its template.
                        path=route if "{token}" in route else scope["path"],
                        route=route,
                        status=status,
                        seconds=round(elapsed, 4),
                        account_id=account_id,
                    )
