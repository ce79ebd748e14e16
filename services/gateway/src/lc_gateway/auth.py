"""Who is calling: an API key (`Authorization: Bearer`) or the panel's session cookie.

Each request acts for exactly one account; its id is bound to the logs and
passed on to the peer services, which scope every object by it.
"""

from __future__ import annotations

import hmac
from typing import Annotated

import structlog
from fastapi import Depends, Request

from lc_gateway import csrf
from lc_gateway.accounts import Account
from lc_gateway.bootstrap import Gateway
from lc_gateway.errors import CsrfFailed, NotAuthenticated
from lc_gateway.sessions import SESSION_USER

__all__ = ["SESSION_ACCOUNT", "SESSION_USER"]

SESSION_ACCOUNT = "aid"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Where `ApiAuthGate` leaves the account it authenticated, in the request's state.
AUTHENTICATED = "authenticated_account"


def get_gateway(request: Request) -> Gateway:
    """The wired gateway of the running app."""
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def bind_account(request: Request, account: Account) -> None:
    """Record the acting account for the access log and every log line after this."""
    request.state.account_id = account.id
    structlog.contextvars.bind_contextvars(account_id=account.id)


async def session_account(request: Request, gateway: Gateway) -> Account | None:
    """The account of the logged-in panel user, or None."""
    account_id = request.session.get(SESSION_ACCOUNT)
    if not isinstance(account_id, str):
        return None
    account = await gateway.accounts.get_account(account_id)
    if account is None:
        # The account went away: forget the session rather than half-trusting it.
        request.session.clear()
        return None
    bind_account(request, account)
    return account


def client_address(request: Request) -> str:
    """The address the request came from (after uvicorn's trusted-proxy handling)."""
    return request.client.host if request.client else "unknown"


async def authenticate_api(request: Request, gateway: Gateway) -> Account:
    """The account of an API call; raises `NotAuthenticated` (401) otherwise.

    Reads headers and the session only, never the body. A bearer key wins over
    a cookie; wrong keys are counted per address and, past the limit, refused
    with `TooManyAttempts` (429) before any lookup. A call made with the cookie
    alone must carry the session's CSRF token in `X-CSRF-Token` unless it only reads.
    """
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise NotAuthenticated("Use 'Authorization: Bearer <api key>'.")
        address = client_address(request)
        await gateway.throttle.check_api_key(address)
        account = await gateway.accounts.account_for_api_key(key.strip())
        if account is None:
            await gateway.throttle.api_key_failed(address)
            raise NotAuthenticated("The API key is not valid or has been revoked.")
        bind_account(request, account)
        return account
    account = await session_account(request, gateway)
    if account is None:
        raise NotAuthenticated("Authenticate with 'Authorization: Bearer <api key>'.")
    if request.method not in _SAFE_METHODS and not csrf.token_valid(
        request.session, request.headers.get(csrf.HEADER)
    ):
        raise CsrfFailed(f"A request made with the session cookie needs the {csrf.HEADER} header.")
    return account


async def api_account(request: Request, gateway: GatewayDep) -> Account:
    """The account `ApiAuthGate` authenticated for this request (or authenticate it now)."""
    account = request.scope.get("state", {}).get(AUTHENTICATED)
    if isinstance(account, Account):
        return account
    return await authenticate_api(request, gateway)


ApiAccount = Annotated[Account, Depends(api_account)]


def internal_caller(request: Request, gateway: GatewayDep) -> None:
    """Refuse (401) an internal call without the shared internal token."""
    expected = gateway.settings.internal_token.get_secret_value()
    # Header values arrive as latin-1 text; compare bytes, so any character is a plain miss.
    given = request.headers.get("x-lc-internal-token", "").encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(expected.encode(), given):
        raise NotAuthenticated("This internal endpoint needs a valid X-LC-Internal-Token.")
