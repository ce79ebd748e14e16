"""The Users page (list, invite, remove, change your password) and accepting an invitation.

Every user sees the page and can change their own password; only owners see
and use the invite and remove controls, and the routes refuse members (403)
whatever a page showed.
"""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from lc_gateway.domain.accounts import ROLES, Account, User
from lc_gateway.edge.auth import (
    GatewayDep,
    acting_user,
    client_address,
    require_owner,
)
from lc_gateway.edge.session_cookie import SCOPE_TOKEN
from lc_gateway.errors import FieldInvalid, NotAuthenticated, TooManyAttempts
from lc_gateway.panel.auth import link_page, start_session
from lc_gateway.panel.common import PanelAccount, checked_form, flash, redirect, render
from lc_gateway.users import INVITATION_PATH

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)


async def panel_owner(request: Request, account: PanelAccount) -> Account:
    """The account of a logged-in owner; a member gets 403."""
    require_owner(request)
    return account


PanelOwner = Annotated[Account, Depends(panel_owner)]


def _me(request: Request) -> User:
    user = acting_user(request)
    if user is None:
        raise NotAuthenticated("Log in to the control panel.")
    return user


@router.get("/users")
async def users_page(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    me = _me(request)
    users = await gateway.accounts.users(account.id)
    invitations = await gateway.users.pending_invitations(account.id) if me.is_owner else []
    context = {"me": me, "users": users, "invitations": invitations, "roles": ROLES}
    return render(request, "users.html", context, account=account)


@router.post("/users/invite")
async def invite(request: Request, account: PanelOwner, gateway: GatewayDep) -> Response:
    form = await checked_form(request)
    email = form.get("email", "").strip()
    try:
        await gateway.users.invite(_me(request), email, form.get("role", "member"))
    except FieldInvalid as exc:
        flash(request, "error", exc.message)
    else:
        flash(request, "ok", f"An invitation was mailed to {email}.")
    return redirect("/users")


@router.post("/users/invitations/{invitation_id}/withdraw")
async def withdraw(
    invitation_id: str, request: Request, account: PanelOwner, gateway: GatewayDep
) -> Response:
    await checked_form(request)
    await gateway.users.withdraw(_me(request), invitation_id)
    flash(request, "ok", "The invitation is withdrawn; its link no longer works.")
    return redirect("/users")


@router.post("/users/{user_id}/remove")
async def remove(
    user_id: str, request: Request, account: PanelOwner, gateway: GatewayDep
) -> Response:
    await checked_form(request)
    try:
        removed = await gateway.users.remove(_me(request), user_id)
    except FieldInvalid as exc:
        flash(request, "error", exc.message)
    else:
        flash(request, "ok", f"{removed.login} is removed and logged out.")
    return redirect("/users")


@router.post("/users/password")
async def change_password(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    """Change your own password; your other sessions end, this one stays."""
    form = await checked_form(request)
    me = _me(request)
    address = client_address(request)
    new = form.get("new_password", "")
    if new != form.get("confirm", ""):
        flash(request, "error", "The two new passwords differ.")
        return redirect("/users")
    try:
        # A stolen session must not become a way to guess the password.
        await gateway.throttle.check_login(me.login, address)
        changed = await gateway.users.change_password(
            me, form.get("current_password", ""), new, keep_session=request.scope.get(SCOPE_TOKEN)
        )
    except (FieldInvalid, TooManyAttempts) as exc:
        flash(request, "error", exc.message)
        return redirect("/users")
    if not changed:
        await gateway.throttle.login_failed(me.login, address)
        flash(request, "error", "The current password is wrong.")
        return redirect("/users")
    flash(request, "ok", "Your password is changed; your other sessions are logged out.")
    return redirect("/users")


async def _invitation_context(token: str, gateway: GatewayDep) -> dict[str, Any]:
    invitation = await gateway.users.open_invitation(token)
    account = await gateway.accounts.get_account(invitation.account_id)
    return {
        "token": token,
        "email": invitation.email,
        "account_name": account.name if account else "",
        "name": "",
    }


@router.get(INVITATION_PATH + "/{token}")
async def invitation_page(token: str, request: Request, gateway: GatewayDep) -> Response:
    context = await _invitation_context(token, gateway)
    return link_page(request, "invitation.html", context, 200)


@router.post(INVITATION_PATH + "/{token}")
async def accept(token: str, request: Request, gateway: GatewayDep) -> Response:
    """Create the invited user and log them in."""
    form = await checked_form(request)
    name, password = form.get("name", ""), form.get("password", "")
    context = {**await _invitation_context(token, gateway), "name": name}
    if password != form.get("confirm", ""):
        return link_page(
            request, "invitation.html", {**context, "error": "The passwords differ."}, 422
        )
    try:
        user = await gateway.users.accept(token, name, password)
    except FieldInvalid as exc:
        return link_page(request, "invitation.html", {**context, "error": exc.message}, 422)
    start_session(request, user)
    flash(request, "ok", f"Welcome, {user.name}.")
    return redirect("/batches")
