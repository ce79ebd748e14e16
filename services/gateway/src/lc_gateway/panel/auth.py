"""Login and logout of the control panel, and resetting a forgotten password.

`/password-reset` asks for an email and answers the same whatever it is (a
link is mailed only to a user's login); `/password-reset/<token>` sets the new
password once and ends every session of that user.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response

from lc_gateway.bootstrap import Gateway
from lc_gateway.domain.accounts import User, normalise_login
from lc_gateway.edge import csrf
from lc_gateway.edge.auth import (
    SESSION_ACCOUNT,
    SESSION_USER,
    GatewayDep,
    client_address,
    session_account,
)
from lc_gateway.errors import FieldInvalid, TooManyAttempts
from lc_gateway.metrics import LOGINS, SESSIONS_ENDED
from lc_gateway.panel.common import checked_form, flash, redirect, render, safe_next
from lc_gateway.users import RESET_PATH

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


def start_session(request: Request, user: User) -> None:
    """Log `user` in: a new session (and id), so a session fixed before login is worth nothing."""
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_ACCOUNT] = user.account_id
    request.session[csrf.SESSION_KEY] = csrf.new_token()


def link_page(request: Request, template: str, context: dict[str, Any], status: int) -> Response:
    """A page reached by a mailed link: its URL holds a token, so no Referer carries it on."""
    page = render(request, template, context, status_code=status)
    page.headers["Referrer-Policy"] = "no-referrer"
    return page


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
    start_session(request, user)
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


@router.get(RESET_PATH)
async def forgot_page(request: Request) -> Response:
    return render(request, "forgot.html", {"email": "", "sent": False})


@router.post(RESET_PATH)
async def forgot(request: Request, gateway: GatewayDep) -> Response:
    """Mail a reset link to a user's login; the answer is the same for any address."""
    form = await checked_form(request)
    email = form.get("email", "")[:320]
    login_name = normalise_login(email)
    try:
        await gateway.throttle.reset_requested(login_name, client_address(request))
    except TooManyAttempts as exc:
        context = {"email": email, "sent": False, "throttled": exc.retry_after}
        page = render(request, "forgot.html", context, status_code=429)
        page.headers.update(exc.headers)
        return page
    await gateway.users.request_reset(login_name)
    return render(request, "forgot.html", {"email": email, "sent": True})


@router.get(RESET_PATH + "/{token}")
async def reset_page(token: str, request: Request, gateway: GatewayDep) -> Response:
    reset = await gateway.users.open_reset(token)
    log.info("password_reset_opened", user_id=reset.user_id, account_id=reset.account_id)
    return link_page(request, "reset.html", {"token": token}, 200)


@router.post(RESET_PATH + "/{token}")
async def reset(token: str, request: Request, gateway: GatewayDep) -> Response:
    """Set the new password; every session of the user ends, this browser logs in anew."""
    form = await checked_form(request)
    password = form.get("password", "")
    if password != form.get("confirm", ""):
        context = {"token": token, "error": "The two passwords differ."}
        return link_page(request, "reset.html", context, 422)
    try:
        await gateway.users.complete_reset(token, password)
    except FieldInvalid as exc:
        return link_page(request, "reset.html", {"token": token, "error": exc.message}, 422)
    request.session.clear()
    flash(request, "ok", "Your password is changed. Log in with it.")
    return redirect("/login")
