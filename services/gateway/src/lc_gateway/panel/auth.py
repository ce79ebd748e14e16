"""Login and logout of the control panel."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response

from lc_gateway import csrf
from lc_gateway.accounts import normalise_login
from lc_gateway.auth import (
    SESSION_ACCOUNT,
    SESSION_USER,
    GatewayDep,
    client_address,
    session_account,
)
from lc_gateway.bootstrap import Gateway
from lc_gateway.errors import TooManyAttempts
from lc_gateway.metrics import LOGINS, SESSIONS_ENDED
from lc_gateway.panel.common import checked_form, redirect, render, safe_next

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, gateway: GatewayDep) -> Response:
    account = await session_account(request, gateway)
    return redirect("/batches" if account else "/login")


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": safe_next(next), "email": ""})


async def _lockout(gateway: Gateway, login: str) -> None:
    """After the failure that locked `login`: tell the account's owner (once per window)."""
    user = await gateway.accounts.user(login)
    if user is None or not await gateway.throttle.lockout_notice_due(login):
        return
    account = await gateway.accounts.get_account(user.account_id)
    if account is not None:
        gateway.lockouts.notify(account, login)


@router.post("/login")
async def login(request: Request, gateway: GatewayDep) -> Response:
    form = await checked_form(request)
    email = form.get("email", "")
    login_name, address = normalise_login(email)[:320], client_address(request)
    context = {"next": safe_next(form.get("next")), "email": email, "error": True}
    try:
        await gateway.throttle.check_login(login_name, address)
    except TooManyAttempts as exc:
        LOGINS.labels("throttled").inc()
        log.info("login_throttled")
        page = render(
            request, "login.html", {**context, "throttled": exc.retry_after}, status_code=429
        )
        page.headers.update(exc.headers)
        return page
    user = await gateway.accounts.authenticate(email, form.get("password", ""))
    if user is None:
        LOGINS.labels("refused").inc()
        log.info("login_refused")
        if await gateway.throttle.login_failed(login_name, address):
            await _lockout(gateway, login_name)
        return render(request, "login.html", context, status_code=401)
    # A new session on login, so a session fixed before login is worth nothing.
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_ACCOUNT] = user.account_id
    request.session[csrf.SESSION_KEY] = csrf.new_token()
    LOGINS.labels("ok").inc()
    log.info("login", account_id=user.account_id, user_id=user.id)
    return redirect(safe_next(form.get("next")))


@router.post("/logout")
async def logout(request: Request) -> Response:
    await checked_form(request)
    # An empty session is deleted from the store: the cookie is worth nothing after this.
    request.session.clear()
    SESSIONS_ENDED.labels("logout").inc()
    return redirect("/login")
