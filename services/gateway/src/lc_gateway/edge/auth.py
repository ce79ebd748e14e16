"""Who is calling: an API key (`Authorization: Bearer`) or the panel's session cookie.

Each request acts for exactly one account; its id is bound to the logs and
passed on to the peer services, which scope every object by it. A session
also names its user (bound to the logs as `user_id`): the user is read on
every request, so a removed user is logged out at once. An API key acts for
the account, as its owners do.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Request

from lc_gateway.bootstrap import Gateway
from lc_gateway.domain.accounts import Account, User, acts_as_owner, session_user_fits
from lc_gateway.domain.sessions import SESSION_USER
from lc_gateway.edge import csrf
from lc_gateway.errors import CsrfFailed, Forbidden, NotAuthenticated

__all__ = ["SESSION_ACCOUNT", "SESSION_USER"]

SESSION_ACCOUNT = "aid"
# Where the acting user (None for an API key) is kept in the request's state;
# templates read it as `request.state.user`.
ACTING_USER = "user"
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


def bind_user(request: Request, user: User | None) -> None:
    """Record the acting user (None: an API key) for checks, templates and the logs."""
    setattr(request.state, ACTING_USER, user)
    if user is not None:
        structlog.contextvars.bind_contextvars(user_id=user.id)


def acting_user(request: Request) -> User | None:
    """The logged-in user this request acts as; None for an API key or nobody."""
    user = getattr(request.state, ACTING_USER, None)
    return user if isinstance(user, User) else None


def require_owner(request: Request) -> None:
    """Refuse (403) a member; owners' sessions and API keys pass.

    Call it after the request was authenticated (the acting user is known then).
    """
    if not acts_as_owner(acting_user(request)):
        raise Forbidden("Only an owner of the account can do this.")


async def session_account(request: Request, gateway: Gateway) -> Account | None:
    """The account of the logged-in panel user, or None.

    The session's user must still exist, be active and belong to the session's
    account; otherwise the session is forgotten (a removed user is logged out).
    """
    account_id = request.session.get(SESSION_ACCOUNT)
    user_id = request.session.get(SESSION_USER)
    if not isinstance(account_id, str) or not isinstance(user_id, str):
        return None
    user = await gateway.accounts.user_by_id(user_id)
    account = await gateway.accounts.get_account(account_id)
    if user is None or account is None or not session_user_fits(user, account):
        # The user or account went away: forget the session rather than half-trusting it.
        request.session.clear()
        return None
    bind_account(request, account)
    bind_user(request, user)
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
        bind_user(request, None)
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


async def api_owner(request: Request, account: ApiAccount) -> Account:
    """The account of an API call made by an owner's session or an API key (403 otherwise)."""
    require_owner(request)
    return account


ApiOwner = Annotated[Account, Depends(api_owner)]
