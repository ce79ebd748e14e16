"""The notifier's internal API for webhooks (the gateway calls it for an account):
endpoints and their deliveries. Errors are `{"error": {"code", "message"}}`."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from lc_notifier.config import NotifierSettings
from lc_notifier.webhooks import domain
from lc_notifier.webhooks.domain import EventType
from lc_notifier.webhooks.sender import WebhookDeps
from lc_notifier.webhooks.targets import MAX_URL_LENGTH, TargetRefused, checked_target

log = structlog.get_logger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Every error of the internal API in the one JSON shape."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
            for e in exc.errors()[:3]
        ]
        return _error(422, "validation_error", "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, "http_error", str(exc.detail))


def _internal(
    request: Request, token: Annotated[str | None, Header(alias="X-LC-Internal-Token")] = None
) -> None:
    settings: NotifierSettings = request.app.state.settings
    expected = settings.internal_token.get_secret_value()
    if token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        raise ApiError(401, "unauthorized", "missing or wrong internal token")


def _account(account_id: Annotated[str | None, Header(alias="X-LC-Account-Id")] = None) -> str:
    if not account_id:
        raise ApiError(400, "account_required", "X-LC-Account-Id is required")
    return account_id


def _deps(request: Request) -> WebhookDeps:
    deps: WebhookDeps = request.app.state.runtime.webhooks
    return deps


Deps = Annotated[WebhookDeps, Depends(_deps)]
Account = Annotated[str, Depends(_account)]


class EndpointRequest(BaseModel):
    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH)
    events: list[EventType] = Field(min_length=1, max_length=len(domain.EVENT_TYPES))

    @field_validator("events")
    @classmethod
    def _distinct(cls, events: list[EventType]) -> list[EventType]:
        return list(dict.fromkeys(events))


router = APIRouter(prefix="/internal/v1", dependencies=[Depends(_internal)])


@router.post("/webhooks", status_code=201)
async def create_endpoint(body: EndpointRequest, deps: Deps, account_id: Account) -> Any:
    """Register an endpoint; the answer carries its signing secret, shown only here."""
    try:
        await checked_target(body.url, allow_private=deps.allow_private)
    except TargetRefused as exc:
        raise ApiError(422, "bad_webhook_url", str(exc)) from None
    if len(await deps.store.endpoints(account_id)) >= deps.max_endpoints:
        raise ApiError(
            409, "too_many_webhooks", f"an account may have at most {deps.max_endpoints} webhooks"
        )
    endpoint = await deps.store.add_endpoint(
        account_id, body.url, list(body.events), domain.new_secret(), deps.clock.now()
    )
    log.info("webhook_registered", account_id=account_id, endpoint_id=endpoint.id)
    return {**endpoint.public(), "secret": endpoint.secret}


@router.get("/webhooks")
async def list_endpoints(deps: Deps, account_id: Account) -> dict[str, Any]:
    return {"webhooks": [e.public() for e in await deps.store.endpoints(account_id)]}


@router.delete("/webhooks/{endpoint_id}")
async def delete_endpoint(endpoint_id: str, deps: Deps, account_id: Account) -> dict[str, Any]:
    """Remove the endpoint; its pending deliveries are dropped at their next attempt."""
    if not await deps.store.remove_endpoint(account_id, endpoint_id):
        raise ApiError(404, "webhook_not_found", "no such webhook in this account")
    log.info("webhook_deleted", account_id=account_id, endpoint_id=endpoint_id)
    return {"id": endpoint_id, "deleted": True}


@router.get("/webhooks/{endpoint_id}/deliveries")
async def endpoint_deliveries(
    endpoint_id: str,
    deps: Deps,
    account_id: Account,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    if await deps.store.endpoint(account_id, endpoint_id) is None:
        raise ApiError(404, "webhook_not_found", "no such webhook in this account")
    return {"deliveries": await deps.store.deliveries(account_id, endpoint_id, limit)}


@router.get("/webhook-deliveries")
async def account_deliveries(
    deps: Deps, account_id: Account, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> dict[str, Any]:
    """The account's most recent deliveries, every endpoint's, newest first."""
    return {"deliveries": await deps.store.deliveries(account_id, None, limit)}
