"""`/api/v1/webhooks`: endpoints that receive the account's events, signed per Standard
Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), and their deliveries."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Body, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from lc_gateway.api.schemas import ERRORS, error_example
from lc_gateway.edge.auth import ApiAccount, ApiOwner, GatewayDep

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=ERRORS)

EventType = Literal["batch.finished", "batch.daily_summary", "batch.paused_no_credit", "credit.low"]
WebhookId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]

WEBHOOK_EXAMPLE = {
    "id": "wh_5e0c1a9f3b7d2e4c6a8b0d1f",
    "url": "https://hooks.example.com/leadcleanser",
    "events": ["batch.finished", "credit.low"],
    "created_at": "2026-03-02T09:15:00+00:00",
}
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw0n5tAxxTnsw="
DELIVERY_EXAMPLE = {
    "id": "msg_2b9e0c4f7a1d3e5b6c8a0f2d4e6b8a1c",
    "endpoint_id": "wh_5e0c1a9f3b7d2e4c6a8b0d1f",
    "type": "batch.finished",
    "state": "delivered",
    "attempts": 2,
    "last_status_code": 200,
    "last_error": None,
    "created_at": "2026-03-02T10:01:00+00:00",
    "last_attempt_at": "2026-03-02T10:01:05+00:00",
    "next_attempt_at": None,
}


class WebhookRequest(BaseModel):
    url: str = Field(
        min_length=1,
        max_length=2000,
        description="An https URL on a public address (checked at registration and at "
        "every delivery).",
    )
    events: list[EventType] = Field(min_length=1, max_length=4)


class Webhook(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: str


class CreatedWebhook(Webhook):
    secret: str = Field(description="The signing secret, `whsec_<base64>`: shown only here.")


class WebhookList(BaseModel):
    webhooks: list[Webhook]


class Delivery(BaseModel):
    id: str = Field(description="The `webhook-id` header: the same on every retry.")
    endpoint_id: str
    type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: str | None
    last_attempt_at: str | None
    next_attempt_at: str | None


class DeliveryList(BaseModel):
    deliveries: list[Delivery]


_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No such webhook in this account",
        "content": error_example("webhook_not_found", "no such webhook in this account"),
    }
}


@router.post(
    "",
    summary="Register a webhook endpoint; the answer carries its signing secret, once",
    status_code=201,
    response_model=CreatedWebhook,
    responses={
        201: {
            "content": {
                "application/json": {"example": {**WEBHOOK_EXAMPLE, "secret": SECRET_EXAMPLE}}
            }
        },
        409: {
            "description": "The account has as many webhooks as it may",
            "content": error_example(
                "too_many_webhooks", "an account may have at most 20 webhooks"
            ),
        },
        422: {
            "description": "Not a public https URL, or an unknown event",
            "content": error_example("bad_webhook_url", "the address 10.0.0.5 is private"),
        },
    },
)
async def create_webhook(
    order: Annotated[
        WebhookRequest,
        Body(
            openapi_examples={
                "finished": {
                    "summary": "Finished batches and low credit",
                    "value": {"url": WEBHOOK_EXAMPLE["url"], "events": WEBHOOK_EXAMPLE["events"]},
                }
            }
        ),
    ],
    account: ApiOwner,
    gateway: GatewayDep,
) -> Any:
    created = await gateway.notifier.create_webhook(account.id, order.url, list(order.events))
    return JSONResponse(created, status_code=201)


@router.get(
    "",
    summary="The account's webhook endpoints (without their secrets)",
    response_model=WebhookList,
    responses={
        200: {"content": {"application/json": {"example": {"webhooks": [WEBHOOK_EXAMPLE]}}}}
    },
)
async def list_webhooks(account: ApiAccount, gateway: GatewayDep) -> Any:
    return JSONResponse({"webhooks": await gateway.notifier.webhooks(account.id)})


@router.delete(
    "/{webhook_id}",
    summary="Remove a webhook endpoint; nothing more is sent to it",
    status_code=204,
    responses=_NOT_FOUND,
)
async def delete_webhook(webhook_id: WebhookId, account: ApiOwner, gateway: GatewayDep) -> Response:
    await gateway.notifier.delete_webhook(account.id, quote(webhook_id, safe=""))
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    summary="The endpoint's deliveries, newest first, with their outcomes",
    response_model=DeliveryList,
    responses={
        200: {"content": {"application/json": {"example": {"deliveries": [DELIVERY_EXAMPLE]}}}},
        **_NOT_FOUND,
    },
)
async def webhook_deliveries(
    webhook_id: WebhookId,
    account: ApiAccount,
    gateway: GatewayDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    rows = await gateway.notifier.deliveries(account.id, quote(webhook_id, safe=""), limit)
    return JSONResponse({"deliveries": rows})
