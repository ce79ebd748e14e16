"""Tenancy walk: every route of the gateway, called by one account with another's ids.

The routes are read from the app itself, so a route added later is walked too
(and a path parameter this walk does not know fails it, until it is taught).
Every call answers 404 and changes nothing of the other account's.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx
import pytest
from starlette.routing import Route
from tests.integration.gateway.conftest import Stack, log_in
from tests.integration.gateway.test_gateway_api import bearer

pytestmark = pytest.mark.mongo

# Prefixes not scoped by account: the internal API answers peers by token, not tenants;
# a mailed link's token is the capability itself (tests/integration/gateway/test_gateway_users.py).
NOT_TENANT_SCOPED = ("/internal/", "/invitations/", "/password-reset/")
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def every_route(routes: list[Any], prefix: str = "") -> list[tuple[str, set[str]]]:
    """(full path template, methods) of every route, through included routers."""
    found: list[tuple[str, set[str]]] = []
    for route in routes:
        if isinstance(route, Route):
            found.append((prefix + route.path, set(route.methods or ())))
        elif hasattr(route, "original_router"):
            # FastAPI keeps an included router whole, with the prefix it was included under.
            inner = prefix + route.include_context.prefix
            found.extend(every_route(route.original_router.routes, inner))
    return found


def routes_with_ids(app: Any) -> list[tuple[str, str, list[str]]]:
    """(method, path template, parameter names) of every route that takes an id."""
    walked = []
    for path, methods in every_route(app.routes):
        names = _PARAM.findall(path)
        if path.startswith(NOT_TENANT_SCOPED) or not names:
            continue
        for method in sorted(methods - {"HEAD"}):
            walked.append((method, path, names))
    return walked


async def test_no_route_reaches_another_accounts_objects(stack: Stack) -> None:
    mine = await stack.new_account("Tenant A")
    theirs = await stack.new_account("Tenant B")
    their_batch = stack.ingest.add_batch(theirs.account.id, name="B's batch")
    their_key = (await stack.accounts.api_keys(theirs.account.id))[0]
    their_owner = await stack.accounts.user(theirs.login)
    assert their_owner is not None
    their_member = await stack.accounts.add_user(
        account_id=theirs.account.id,
        email="member.b@example.com",
        name="B member",
        role="member",
        password="a member's password",
    )
    invitation = await stack.app.state.gateway.users.invite(
        their_owner, "invited.b@example.com", "member"
    )
    their_webhook = stack.notifier.add_webhook(theirs.account.id)
    ids = {
        "webhook_id": their_webhook,
        "batch_id": their_batch,
        "key_id": their_key.id,
        "user_id": their_member.id,
        "invitation_id": invitation.id,
    }
    batches_before = copy.deepcopy(stack.ingest.batches)
    keys_before = await stack.accounts.api_keys(theirs.account.id)

    walked = routes_with_ids(stack.app)
    assert {path for _, path, _ in walked} >= {
        "/api/v1/batches/{batch_id}",
        "/batches/{batch_id}/pause",
        "/keys/{key_id}/revoke",
        "/users/{user_id}/remove",
        "/users/invitations/{invitation_id}/withdraw",
        "/api/v1/webhooks/{webhook_id}",
        "/webhooks/{webhook_id}/delete",
    }
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as panel:
        token = await log_in(panel, mine.login)
        for method, template, names in walked:
            unknown = [name for name in names if name not in ids]
            assert not unknown, f"teach the walk the ids of {template}: {unknown}"
            path = template
            for name in names:
                path = re.sub("{" + name + r"(?::\w+)?}", ids[name], path)
            if template.startswith("/api/"):
                answer = await panel.request(
                    method,
                    path,
                    headers=bearer(mine.api_key),
                    json={"paused": True} if method == "PATCH" else None,
                )
                # The same call with the session cookie instead of a key.
                by_cookie = await panel.request(
                    method,
                    path,
                    headers={"X-CSRF-Token": token},
                    json={"paused": True} if method == "PATCH" else None,
                )
                assert by_cookie.status_code == 404, (method, path, by_cookie.text)
            else:
                data = {"csrf_token": token, "paused": "true"} if method == "POST" else None
                answer = await panel.request(method, path, data=data)
            assert answer.status_code == 404, (method, path, answer.status_code, answer.text)

    assert stack.ingest.batches == batches_before
    assert await stack.accounts.api_keys(theirs.account.id) == keys_before
    assert their_webhook in stack.notifier.webhooks
    assert [user.id for user in await stack.accounts.users(theirs.account.id)] == [
        their_owner.id,
        their_member.id,
    ]
    assert await stack.app.state.gateway.users.pending_invitations(theirs.account.id)
    assert (
        await httpx.AsyncClient(base_url=stack.url).get(
            "/api/v1/batches", headers=bearer(theirs.api_key)
        )
    ).status_code == 200
