"""Errors: their JSON shape, statuses, and how peers' answers are mapped."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from lc_gateway.adapters.upstream import Upstream
from lc_gateway.api.errors import error_body, install_error_handlers, validation_message
from lc_gateway.errors import (
    BodyTooLarge,
    GatewayError,
    NotFound,
    UpstreamFailed,
    UpstreamRejected,
    UpstreamUnavailable,
)


def test_the_error_shape() -> None:
    assert error_body("not_found", "No batch.") == {
        "error": {"code": "not_found", "message": "No batch."}
    }


def test_statuses_and_codes() -> None:
    assert (NotFound("x").status, NotFound("x").code) == (404, "not_found")
    too_large = BodyTooLarge(1024 * 1024)
    assert (too_large.status, too_large.code) == (413, "upload_too_large")
    assert "1048576 bytes (1.0 MiB)" in too_large.message
    down = UpstreamUnavailable("ingest")
    assert down.status == 503 and "ingest" in down.message
    assert UpstreamFailed("billing", "status 500").status == 502
    custom = GatewayError("m", status=409, code="conflict")
    assert (custom.status, custom.code, custom.message) == (409, "conflict", "m")


def test_validation_message_names_the_field() -> None:
    errors = [{"loc": ("body", "paused"), "msg": "Input should be a valid boolean"}]
    assert validation_message(errors) == "body.paused: Input should be a valid boolean"
    assert validation_message([]) == "The request is not valid."


def upstream() -> Upstream:
    return Upstream("ingest", httpx.AsyncClient(), "token")


async def test_a_peer_4xx_is_passed_through_with_its_code() -> None:
    answer = httpx.Response(404, json={"error": {"code": "batch_not_found", "message": "no"}})
    with pytest.raises(UpstreamRejected) as caught:
        await upstream().check(answer)
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        404,
        "batch_not_found",
        "no",
    )


async def test_a_peer_4xx_of_another_shape_still_becomes_an_error() -> None:
    with pytest.raises(UpstreamRejected) as caught:
        await upstream().check(httpx.Response(422, json={"detail": "bad column"}))
    assert (caught.value.status, caught.value.message) == (422, "bad column")
    with pytest.raises(UpstreamRejected) as caught:
        await upstream().check(httpx.Response(410, text="gone"))
    assert caught.value.code == "http_410"


@pytest.mark.parametrize("status", [500, 503, 401, 403])
async def test_peer_failures_and_refused_tokens_are_bad_gateway(status: int) -> None:
    with pytest.raises(UpstreamFailed) as caught:
        await upstream().check(httpx.Response(status))
    assert caught.value.status == 502


async def test_a_2xx_passes() -> None:
    await upstream().check(httpx.Response(201, json={}))


async def test_every_error_is_rendered_as_json() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def raise_unavailable() -> None:
        raise UpstreamUnavailable("billing")

    @app.get("/crash")
    async def raise_bug() -> None:
        raise RuntimeError("bug")

    @app.get("/number/{n}")
    async def number(n: int) -> int:
        return n

    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        boom = await client.get("/boom")
        assert boom.status_code == 503
        assert boom.json()["error"]["code"] == "service_unavailable"
        assert (await client.get("/nowhere")).json()["error"]["code"] == "not_found"
        assert (await client.post("/boom")).json()["error"]["code"] == "method_not_allowed"
        invalid = await client.get("/number/x")
        assert invalid.status_code == 422
        assert invalid.json()["error"]["message"].startswith("path.n:")
        crash = await client.get("/crash")
        assert crash.status_code == 500
        assert crash.json() == error_body("internal_error", "Something went wrong on our side.")
