"""API key management, for owners only: list (prefixes only), create (shown once), revoke."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lc_gateway.edge.auth import GatewayDep
from lc_gateway.errors import NotFound
from lc_gateway.panel.common import checked_form, flash, redirect, render
from lc_gateway.panel.users import PanelOwner

router = APIRouter(include_in_schema=False)


@router.get("/keys")
async def keys_page(request: Request, account: PanelOwner, gateway: GatewayDep) -> Response:
    keys = await gateway.accounts.api_keys(account.id)
    return render(request, "keys.html", {"keys": keys, "new_key": None}, account=account)


@router.post("/keys")
async def create_key(request: Request, account: PanelOwner, gateway: GatewayDep) -> Response:
    await checked_form(request)
    issued = await gateway.accounts.issue_api_key(account.id)
    keys = await gateway.accounts.api_keys(account.id)
    # Rendered rather than redirected: the key exists in clear only in this answer.
    context = {"keys": keys, "new_key": issued.secret}
    return render(request, "keys.html", context, account=account, status_code=201)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(
    key_id: str, request: Request, account: PanelOwner, gateway: GatewayDep
) -> Response:
    await checked_form(request)
    if not await gateway.accounts.revoke_api_key(account.id, key_id):
        # Another account's key looks exactly like a missing one.
        raise NotFound("There is no such active key in this account.")
    flash(request, "ok", "The key is revoked; calls made with it are refused from now on.")
    return redirect("/keys")
