"""Internal HTTP plumbing shared by every service: errors, internal auth, peer clients.

Every error a service answers is `{"error": {"code", "message"}}` (plus `details`
where a caller needs more) with a fitting status. The codes that mean the same
failure everywhere are the vocabulary below, written down in docs/internal-apis.md
and held to it by tests/unit/common/test_common_http_vocabulary.py:

| status | code | when |
|---|---|---|
| 401 | `unauthorized` | the `X-LC-Internal-Token` header is missing or wrong |
| 400 | `account_required` | a call made for an account lacks `X-LC-Account-Id` |
| 422 | `invalid_request` | the path, query, headers or body fail validation |
| 404 | `not_found` | no route answers the path |
| 405 | `method_not_allowed` | the route does not take the method |

Each service raises `ServiceError` with a code of its own for everything else
(`batch_not_found`, `too_many_webhooks`, ...). Services find their settings at
`app.state.settings` (a `ServiceSettings`); `require_internal_token` reads the
expected token there.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import httpx
import structlog
from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from lc_common.settings import ServiceSettings

log = structlog.get_logger(__name__)

INTERNAL_TOKEN_HEADER = "X-LC-Internal-Token"
ACCOUNT_HEADER = "X-LC-Account-Id"

UNAUTHORIZED = "unauthorized"
ACCOUNT_REQUIRED = "account_required"
INVALID_REQUEST = "invalid_request"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
# Any other HTTPException the framework raises (rare: 400 for a malformed multipart, ...).
HTTP_ERROR = "http_error"

# The vocabulary as `(status, code)`, the order of docs/internal-apis.md.
VOCABULARY: tuple[tuple[int, str], ...] = (
    (401, UNAUTHORIZED),
    (400, ACCOUNT_REQUIRED),
    (422, INVALID_REQUEST),
    (404, NOT_FOUND),
    (405, METHOD_NOT_ALLOWED),
)

_FRAMEWORK_CODES = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED}

# httpx's own defaults, written down: a bound on connections per peer, some kept warm.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5)


class ServiceError(Exception):
    """A refusal answered as `{"error": {"code", "message"[, "details"]}}` with `status`.

    `headers` are added to the answer (a `Retry-After`, say).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] | None = dict(details) if details is not None else None
        self.headers: dict[str, str] = dict(headers or {})

    def response(self) -> JSONResponse:
        """The answer: the envelope with `status` and `headers`."""
        return JSONResponse(
            error_body(self.code, self.message, self.details), self.status, headers=self.headers
        )


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON shape of every error: `{"error": {"code", "message"[, "details"]}}`."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = dict(details)
    return {"error": error}


def validation_message(errors: Sequence[Any], limit: int = 5) -> str:
    """A one-line summary of pydantic's errors, e.g. `body.paused: Field required`."""
    parts = []
    for error in errors[:limit]:
        where = ".".join(str(part) for part in error.get("loc", ()))
        message = error.get("msg", "invalid")
        parts.append(f"{where}: {message}" if where else str(message))
    return "; ".join(parts) or "The request is not valid."


def framework_code(status: int) -> str:
    """The code of an HTTPException the framework raised with `status`."""
    return _FRAMEWORK_CODES.get(status, HTTP_ERROR)


async def render_service_error(request: Request, exc: Exception) -> Response:
    """Exception handler: a `ServiceError` as its status, code and message."""
    assert isinstance(exc, ServiceError)
    return exc.response()


async def render_validation_error(request: Request, exc: Exception) -> Response:
    """Exception handler: a request that fails validation is 422 `invalid_request`."""
    assert isinstance(exc, RequestValidationError)
    return ServiceError(422, INVALID_REQUEST, validation_message(exc.errors())).response()


async def render_http_error(request: Request, exc: Exception) -> Response:
    """Exception handler: the framework's HTTPException (no route: 404 `not_found`, ...)."""
    assert isinstance(exc, StarletteHTTPException)
    code = framework_code(exc.status_code)
    return ServiceError(exc.status_code, code, str(exc.detail), headers=exc.headers).response()


def install_error_handlers(app: FastAPI) -> None:
    """Answer `ServiceError`, validation errors and the framework's HTTP errors in the
    one shape with the vocabulary's codes."""
    app.add_exception_handler(ServiceError, render_service_error)
    app.add_exception_handler(RequestValidationError, render_validation_error)
    app.add_exception_handler(StarletteHTTPException, render_http_error)


def _as_bytes(text: str) -> bytes:
    # Header values arrive as latin-1 text; as bytes, any character is a plain miss.
    return text.encode("utf-8", "surrogateescape")


def internal_token_valid(given: str | None, expected: str) -> bool:
    """True if `given` is the internal token (compared in constant time)."""
    if not given:
        return False
    return hmac.compare_digest(_as_bytes(given), _as_bytes(expected))


def require_internal_token(
    request: Request,
    token: Annotated[str | None, Header(alias=INTERNAL_TOKEN_HEADER)] = None,
) -> None:
    """Dependency: refuse (401 `unauthorized`) a call without the shared internal token
    of `request.app.state.settings`."""
    settings: ServiceSettings = request.app.state.settings
    if not internal_token_valid(token, settings.internal_token.get_secret_value()):
        raise ServiceError(401, UNAUTHORIZED, f"{INTERNAL_TOKEN_HEADER} is missing or wrong.")


def account_id_header(
    account_id: Annotated[str | None, Header(alias=ACCOUNT_HEADER)] = None,
) -> str:
    """Dependency: the account a peer acts for; 400 `account_required` without it."""
    if not account_id:
        raise ServiceError(400, ACCOUNT_REQUIRED, f"{ACCOUNT_HEADER} is required.")
    return account_id


InternalCaller = Depends(require_internal_token)
AccountId = Annotated[str, Depends(account_id_header)]


def pooled_client(
    base_url: str,
    timeout: float,
    token: str | None = None,
    *,
    connect_timeout: float | None = None,
    limits: httpx.Limits = DEFAULT_LIMITS,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """One client per peer, shared by every call to it: keeps connections alive in a pool.

    With `token`, every request carries it as `X-LC-Internal-Token`. Redirects are
    not followed. The owner (the service's runtime) closes it with `aclose()` on
    shutdown; a client per call would open a connection per call. `transport`
    (an in-process peer, in tests) replaces the pooled network transport.
    """
    headers = {INTERNAL_TOKEN_HEADER: token} if token is not None else None
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        timeout=httpx.Timeout(timeout, connect=connect_timeout or timeout),
        limits=limits,
        follow_redirects=False,
        transport=transport,
    )
