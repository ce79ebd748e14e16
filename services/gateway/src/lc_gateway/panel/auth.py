"""Login and logout of the control panel."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response

from lc_gateway import csrf
from lc_gateway.auth import SESSION_ACCOUNT, SESSION_USER, GatewayDep, session_account
from lc_gateway.metrics import LOGINS
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


@router.post("/login")
async def login(request: Request, gateway: GatewayDep) -> Response:
    form = await checked_form(request)
    email = form.get("email", "")
    user = await gateway.accounts.authenticate(email, form.get("password", ""))
    if user is None:
        LOGINS.labels("refused").inc()
        log.info("login_refused")
        context = {"next": safe_next(form.get("next")), "email": email, "error": True}
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
    request.session.clear()
    return redirect("/login")
