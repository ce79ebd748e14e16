"""Authentication before the body: the API refuses a stranger without reading what it sent.

FastAPI reads a route's JSON body before it resolves the route's dependencies,
so an authentication dependency alone would let anyone make the gateway read
(and parse) a body. `ApiAuthGate` authenticates every `/api/v1` request that
may carry a body from its headers at the ASGI level, answers 401/403/429 at once otherwise, and
leaves the account in the request's state for `auth.api_account`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from lc_gateway.api.errors import error_response
from lc_gateway.edge.auth import AUTHENTICATED, authenticate_api, get_gateway
from lc_gateway.errors import GatewayError

_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiAuthGate:
    """Authenticate requests under `prefix`, except the public documentation paths."""

    def __init__(self, app: ASGIApp, *, prefix: str, public: tuple[str, ...]) -> None:
        self.app = app
        self.prefix = prefix
        self.public = public

    def guards(self, method: str, path: str) -> bool:
        """True when a request must be authenticated here: it may carry a body.

        Reads (GET, HEAD, OPTIONS) are left to the routes' own dependency, so
        they are routed, and counted under their route, as usual.
        """
        if method in _BODILESS:
            return False
        return path.startswith(self.prefix) and not path.startswith(self.public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.guards(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        # No `receive` given: nothing here can read the body.
        request = Request(scope)
        try:
            account = await authenticate_api(request, get_gateway(request))
        except GatewayError as exc:
            response = error_response(exc.status, exc.code, exc.message, exc.headers)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[AUTHENTICATED] = account
        await self.app(scope, receive, send)
