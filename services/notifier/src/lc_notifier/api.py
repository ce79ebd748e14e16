"""The notifier's internal API for webhooks (the gateway calls it for an account):
endpoints and their deliveries. Errors are `{"error": {"code", "message"}}`."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, field_validator

from lc_common.http import AccountId, InternalCaller, ServiceError
from lc_notifier.webhooks import domain
from lc_notifier.webhooks.domain import EventType
from lc_notifier.webhooks.sender import WebhookDeps
from lc_notifier.webhooks.targets import MAX_URL_LENGTH, TargetRefused, checked_target

log = structlog.get_logger(__name__)


def _deps(request: Request) -> WebhookDeps:
    deps: WebhookDeps = request.app.state.runtime.webhooks
    return deps


Deps = Annotated[WebhookDeps, Depends(_deps)]


class EndpointRequest(BaseModel):
    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH)
    events: list[EventType] = Field(min_length=1, max_length=len(domain.EVENT_TYPES))

    @field_validator("events")
    @classmethod
    def _distinct(cls, events: list[EventType]) -> list[EventType]:
        return list(dict.fromkeys(events))


router = APIRouter(prefix="/internal/v1", dependencies=[InternalCaller])


@router.post("/webhooks", status_code=201)
async def create_endpoint(body: EndpointRequest, deps: Deps, account_id: AccountId) -> Any:
    """Register an endpoint; the answer carries its signing secret, shown only here."""
    try:
        await checked_target(body.url, allow_private=deps.allow_private)
    except TargetRefused as exc:
        raise ServiceError(422, "bad_webhook_url", str(exc)) from None
    if len(await deps.store.endpoints(account_id)) >= deps.max_endpoints:
        raise ServiceError(
            409, "too_many_webhooks", f"an account may have at most {deps.max_endpoints} webhooks"
        )
    endpoint = await deps.store.add_endpoint(
        account_id, body.url, list(body.events), domain.new_secret(), deps.clock.now()
    )
    log.info("webhook_registered", account_id=account_id, endpoint_id=endpoint.id)
    return {**endpoint.public(), "secret": endpoint.secret}


@router.get("/webhooks")
async def list_endpoints(deps: Deps, account_id: AccountId) -> dict[str, Any]:
    return {"webhooks": [e.public() for e in await deps.store.endpoints(account_id)]}


@router.delete("/webhooks/{endpoint_id}")
async def delete_endpoint(endpoint_id: str, deps: Deps, account_id: AccountId) -> dict[str, Any]:
    """Remove the endpoint; its pending deliveries are dropped at their next attempt."""
    if not await deps.store.remove_endpoint(account_id, endpoint_id):
        raise ServiceError(404, "webhook_not_found", "no such webhook in this account")
    log.info("webhook_deleted", account_id=account_id, endpoint_id=endpoint_id)
    return {"id": endpoint_id, "deleted": True}


@router.get("/webhooks/{endpoint_id}/deliveries")
async def endpoint_deliveries(
    endpoint_id: str,
    deps: Deps,
    account_id: AccountId,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    if await deps.store.endpoint(account_id, endpoint_id) is None:
        raise ServiceError(404, "webhook_not_found", "no such webhook in this account")
    return {"deliveries": await deps.store.deliveries(account_id, endpoint_id, limit)}


@router.get("/webhook-deliveries")
async def account_deliveries(
    deps: Deps, account_id: AccountId, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> dict[str, Any]:
    """The account's most recent deliveries, every endpoint's, newest first."""
    return {"deliveries": await deps.store.deliveries(account_id, None, limit)}
