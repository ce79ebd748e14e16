"""lc_common.http: the error envelope, its handlers, the internal auth and the peer client."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, SecretStr

from lc_common.http import (
    AccountId,
    InternalCaller,
    ServiceError,
    error_body,
    install_error_handlers,
    internal_token_valid,
    pooled_client,
    validation_message,
)

TOKEN = "a-long-internal-token"


class Units(BaseModel):
    units: int


def app_with_routes() -> FastAPI:
    app = FastAPI()
    app.state.settings = SimpleNamespace(internal_token=SecretStr(TOKEN))
    install_error_handlers(app)

    @app.post("/internal/v1/units", dependencies=[InternalCaller])
    async def units(body: Units, account_id: AccountId) -> dict[str, Any]:
        return {"account_id": account_id, "units": body.units}

    @app.get("/refused")
    async def refused() -> None:
        raise ServiceError(429, "slow_down", "later", {"after": 3}, {"Retry-After": "3"})

    return app


@pytest.fixture
async def client() -> Any:
    transport = httpx.ASGITransport(app_with_routes())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        yield http


def test_the_envelope() -> None:
    assert error_body("not_found", "no") == {"error": {"code": "not_found", "message": "no"}}
    assert error_body("x", "y", {"n": 1}) == {
        "error": {"code": "x", "message": "y", "details": {"n": 1}}
    }


def test_validation_message_names_the_fields() -> None:
    errors = [{"loc": ("body", "units"), "msg": "Field required"}, {"msg": "bad"}]
    assert validation_message(errors) == "body.units: Field required; bad"
    assert validation_message([]) == "The request is not valid."


@pytest.mark.parametrize(
    ("given", "valid"),
    [(TOKEN, True), (None, False), ("", False), ("wrong", False), ("tökén", False)],
)
def test_the_internal_token_is_compared_whole(given: str | None, valid: bool) -> None:
    assert internal_token_valid(given, TOKEN) is valid


async def test_a_call_with_token_and_account_passes(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/internal/v1/units",
        json={"units": 2},
        headers={"X-LC-Internal-Token": TOKEN, "X-LC-Account-Id": "acc_1"},
    )
    assert answer.status_code == 200
    assert answer.json() == {"account_id": "acc_1", "units": 2}


async def test_the_token_is_checked_before_anything_else(client: httpx.AsyncClient) -> None:
    answer = await client.post("/internal/v1/units", json={})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"


async def test_a_service_error_keeps_its_details_and_headers(client: httpx.AsyncClient) -> None:
    answer = await client.get("/refused")
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "3"
    assert answer.json() == {
        "error": {"code": "slow_down", "message": "later", "details": {"after": 3}}
    }


async def test_a_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    answer = await client.get("/internal/v1/units")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in answer.headers["allow"]


async def test_a_pooled_client_carries_the_token_and_its_base() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(answer)
    client = pooled_client(
        "http://ingest:8001/", 7.0, TOKEN, connect_timeout=2.0, transport=transport
    )
    async with client:
        await client.get("/internal/v1/leads")
        await client.get("/internal/v1/leads")
    assert [str(r.url) for r in seen] == ["http://ingest:8001/internal/v1/leads"] * 2
    assert all(r.headers["X-LC-Internal-Token"] == TOKEN for r in seen)
    assert client.timeout.read == 7.0 and client.timeout.connect == 2.0
    assert not client.follow_redirects
    assert client.is_closed


async def test_a_pooled_client_without_a_token_sends_none() -> None:
    async with pooled_client("http://billing:8005", 5.0) as client:
        assert "X-LC-Internal-Token" not in client.headers
        assert client.timeout.connect == 5.0
