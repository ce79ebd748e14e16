"""Public API v1 through the gateway: auth, tenancy, streamed uploads and downloads, errors."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from tests.integration.gateway.conftest import UPLOAD_LIMIT, Stack, gateway_settings
from tests.integration.gateway.standins import (
    TOKEN,
    expected_download,
    free_address,
    listening_socket,
    serving,
)

from lc_gateway.main import create_app

pytestmark = pytest.mark.mongo


def multipart(fields: dict[str, str], file_bytes: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body built by hand, so its exact bytes are known."""
    boundary = f"----lc{uuid.uuid4().hex}"
    parts = []
    for name, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="leads.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + file_bytes
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def leads_csv(rows: int) -> bytes:
    lines = ["name,phone,notes"] + [
        f"Lead {i},+61 2 9{i:07d},{os.urandom(6).hex()}" for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


async def chunked(body: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    """The body in pieces, sent with chunked transfer encoding (no Content-Length)."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_requests_without_a_valid_key_are_refused_with_json_errors(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Keyholder")

    missing = await client.get("/api/v1/batches")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "not_authenticated"
    assert missing.headers["www-authenticate"] == "Bearer"

    wrong = await client.get("/api/v1/batches", headers=bearer("lc_live_" + "x" * 43))
    assert wrong.status_code == 401
    assert set(wrong.json()["error"]) == {"code", "message"}

    basic = await client.get("/api/v1/batches", headers={"Authorization": "Basic abc"})
    assert basic.status_code == 401

    ok = await client.get("/api/v1/batches", headers=bearer(owner.api_key))
    assert ok.status_code == 200
    assert ok.json() == {"batches": []}

    key_id = (await stack.accounts.api_keys(owner.account.id))[0].id
    assert await stack.accounts.revoke_api_key(owner.account.id, key_id)
    revoked = await client.get("/api/v1/batches", headers=bearer(owner.api_key))
    assert revoked.status_code == 401


async def test_a_batch_is_invisible_to_another_account(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    alice = await stack.new_account("Alice Calls")
    bob = await stack.new_account("Bob Dials")
    body, content_type = multipart({"name": "March", "reference": "PO-7"}, leads_csv(20))
    created = await client.post(
        "/api/v1/batches",
        content=body,
        headers={**bearer(alice.api_key), "Content-Type": content_type},
    )
    assert created.status_code == 201, created.text
    batch = created.json()
    assert batch["client"] == "Alice Calls"
    assert batch["name"] == "March"
    assert batch["account_id"] == alice.account.id
    batch_id = batch["id"]

    mine = await client.get(f"/api/v1/batches/{batch_id}", headers=bearer(alice.api_key))
    assert mine.status_code == 200
    assert mine.json()["client"] == "Alice Calls"
    listed = await client.get("/api/v1/batches", headers=bearer(alice.api_key))
    assert [b["id"] for b in listed.json()["batches"]] == [batch_id]

    for method, path, payload in (
        ("GET", f"/api/v1/batches/{batch_id}", None),
        ("PATCH", f"/api/v1/batches/{batch_id}", {"paused": True}),
        ("GET", f"/api/v1/batches/{batch_id}/download", None),
    ):
        foreign = await client.request(method, path, json=payload, headers=bearer(bob.api_key))
        assert foreign.status_code == 404, (method, path)
        assert foreign.json()["error"]["code"] == "batch_not_found"
    assert (await client.get("/api/v1/batches", headers=bearer(bob.api_key))).json() == {
        "batches": []
    }
    assert stack.ingest.batches[batch_id]["paused"] is False

    malformed = await client.get("/api/v1/batches/..%2Fsecrets", headers=bearer(bob.api_key))
    assert malformed.status_code == 404
    assert malformed.json()["error"]["code"] == "not_found"


async def test_an_upload_reaches_ingest_byte_for_byte(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Streamer")
    file_bytes = leads_csv(9000)
    body, content_type = multipart(
        {"name": "Big", "reference": "R-1", "phone_column": "phone", "default_region": "AU"},
        file_bytes,
    )
    assert 300_000 < len(body) < UPLOAD_LIMIT

    response = await client.post(
        "/api/v1/batches",
        content=chunked(body),
        headers={**bearer(owner.api_key), "Content-Type": content_type},
    )

    assert response.status_code == 201, response.text
    received = stack.ingest.uploads[-1]
    assert received.raw_sha256 == hashlib.sha256(body).hexdigest()
    assert received.file_sha256 == hashlib.sha256(file_bytes).hexdigest()
    assert received.content_type == content_type
    assert received.account_id == owner.account.id
    assert received.fields == {
        "name": "Big",
        "reference": "R-1",
        "phone_column": "phone",
        "default_region": "AU",
    }

    preview = await client.post(
        "/api/v1/imports/preview",
        content=body,
        headers={**bearer(owner.api_key), "Content-Type": content_type},
    )
    assert preview.status_code == 200
    assert preview.json()["suggested_phone_column"] == "phone"
    assert stack.ingest.uploads[-1].raw_sha256 == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("transfer", ["content-length", "chunked"])
async def test_an_upload_over_the_cap_is_refused_with_413(
    stack: Stack, client: httpx.AsyncClient, transfer: str
) -> None:
    owner = await stack.new_account(f"Oversize {transfer}")
    body, content_type = multipart({"name": "Huge"}, leads_csv(40_000))
    assert len(body) > UPLOAD_LIMIT

    response = await client.post(
        "/api/v1/batches",
        content=body if transfer == "content-length" else chunked(body),
        headers={**bearer(owner.api_key), "Content-Type": content_type},
    )

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "upload_too_large"
    assert str(UPLOAD_LIMIT) in error["message"]
    assert not [b for b in stack.ingest.batches.values() if b["name"] == "Huge"]


async def test_an_upload_must_be_multipart(stack: Stack, client: httpx.AsyncClient) -> None:
    owner = await stack.new_account("Jsonist")
    response = await client.post("/api/v1/batches", json={"x": 1}, headers=bearer(owner.api_key))
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


async def test_a_download_is_relayed_while_ingest_is_still_sending(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Downloader")
    batch_id = stack.ingest.add_batch(owner.account.id)
    # Ingest sends its first chunk and then waits: only a relaying gateway gets it to us.
    stack.ingest.hold_download = asyncio.Event()
    received = bytearray()
    async with client.stream(
        "GET",
        f"/api/v1/batches/{batch_id}/download",
        params={"processed_on": "2025-03-04"},
        headers=bearer(owner.api_key),
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert batch_id in response.headers["content-disposition"]
        chunks = response.aiter_raw()
        async with asyncio.timeout(10):
            received += await anext(chunks)
        assert not stack.ingest.download_finished.is_set()
        stack.ingest.hold_download.set()
        async for chunk in chunks:
            received += chunk

    assert hashlib.sha256(received).digest() == hashlib.sha256(expected_download(batch_id)).digest()
    assert stack.ingest.download_params[-1] == {"processed_on": "2025-03-04"}

    bad_day = await client.get(
        f"/api/v1/batches/{batch_id}/download",
        params={"processed_on": "yesterday"},
        headers=bearer(owner.api_key),
    )
    assert bad_day.status_code == 422
    assert bad_day.json()["error"]["code"] == "validation_error"

    stack.ingest.batches[batch_id]["status"] = "deleted"
    gone = await client.get(f"/api/v1/batches/{batch_id}/download", headers=bearer(owner.api_key))
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "batch_deleted"


async def test_pause_and_unpause(stack: Stack, client: httpx.AsyncClient) -> None:
    owner = await stack.new_account("Pauser")
    batch_id = stack.ingest.add_batch(owner.account.id)
    url = f"/api/v1/batches/{batch_id}"

    paused = await client.patch(url, json={"paused": True}, headers=bearer(owner.api_key))
    assert paused.status_code == 200
    assert paused.json()["paused"] is True
    assert paused.json()["client"] == "Pauser"
    assert stack.ingest.batches[batch_id]["paused"] is True

    resumed = await client.patch(url, json={"paused": False}, headers=bearer(owner.api_key))
    assert resumed.json()["paused"] is False

    invalid = await client.patch(url, json={"paused": "maybe"}, headers=bearer(owner.api_key))
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "validation_error"
    assert "paused" in invalid.json()["error"]["message"]


async def test_billing_is_passed_through(stack: Stack, client: httpx.AsyncClient) -> None:
    owner = await stack.new_account("Payer")
    stack.billing.balances[owner.account.id] = 250
    transaction = {
        "id": "txn_1",
        "kind": "grant",
        "units": 250,
        "batch_id": None,
        "description": "welcome",
        "created_at": "2025-03-04T01:02:03+00:00",
        "status": "done",
    }
    stack.billing.transactions[owner.account.id] = [transaction]

    balance = await client.get("/api/v1/billing/balance", headers=bearer(owner.api_key))
    assert balance.json() == {"account_id": owner.account.id, "balance": 250, "unit": "CU"}
    listed = await client.get("/api/v1/billing/transactions", headers=bearer(owner.api_key))
    assert listed.json() == {"transactions": [transaction], "next_cursor": None}

    bought = await client.post(
        "/api/v1/billing/purchases", json={"units": 500}, headers=bearer(owner.api_key)
    )
    assert bought.status_code == 201
    assert bought.json()["status"] == "pending"
    assert bought.json()["checkout_url"].startswith("http")
    order = stack.billing.purchases[-1]
    assert order["account_id"] == owner.account.id
    assert order["units"] == 500
    assert order["return_url"] == f"{stack.url}/billing/return"

    receipt = {
        "id": "pur_1",
        "purchase_id": "pur_1",
        "units": 500,
        "amount_cents": 2500,
        "currency": "AUD",
        "provider": "stripe",
        "provider_session_id": "cs_test_1",
        "paid_at": "2025-03-05T01:02:03+00:00",
    }
    stack.billing.receipts[owner.account.id] = [receipt]
    receipts = await client.get("/api/v1/billing/receipts", headers=bearer(owner.api_key))
    assert receipts.json() == {"receipts": [receipt], "next_cursor": None}

    zero = await client.post(
        "/api/v1/billing/purchases", json={"units": 0}, headers=bearer(owner.api_key)
    )
    assert zero.status_code == 422
    assert zero.json()["error"]["code"] == "validation_error"


async def test_a_peer_that_is_down_answers_503(gateway_env: dict[str, str]) -> None:
    sock = listening_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(gateway_settings(url, free_address(), free_address()))
    async with serving(app, sock), httpx.AsyncClient(base_url=url) as http:
        owner = await app.state.gateway.accounts.create_account(
            name="Lonely", email="lonely@example.com", password="pw"
        )
        for path in ("/api/v1/batches", "/api/v1/billing/balance"):
            response = await http.get(path, headers=bearer(owner.api_key))
            assert response.status_code == 503
            error = response.json()["error"]
            assert error["code"] == "service_unavailable"
            assert ("ingest" if "batches" in path else "billing") in error["message"]
        metrics = (await http.get("/metrics")).text
        assert 'lc_gateway_upstream_errors_total{kind="unavailable",upstream="ingest"}' in metrics


async def test_internal_account_lookup_needs_the_token(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Notified")
    path = f"/internal/v1/accounts/{owner.account.id}"

    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers={"X-LC-Internal-Token": "nope"})).status_code == 401
    found = await client.get(path, headers={"X-LC-Internal-Token": TOKEN})
    assert found.json() == {
        "id": owner.account.id,
        "name": "Notified",
        "email": "notified@example.com",
        "time_zone": "Australia/Sydney",
    }
    missing = await client.get(
        "/internal/v1/accounts/acc_000000", headers={"X-LC-Internal-Token": TOKEN}
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_openapi_health_and_metrics(stack: Stack, client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    assert set(document["paths"]) == {
        "/api/v1/imports/preview",
        "/api/v1/batches",
        "/api/v1/batches/{batch_id}",
        "/api/v1/batches/{batch_id}/download",
        "/api/v1/billing/balance",
        "/api/v1/billing/transactions",
        "/api/v1/billing/purchases",
        "/api/v1/billing/receipts",
        "/api/v1/users",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{webhook_id}",
        "/api/v1/webhooks/{webhook_id}/deliveries",
    }
    assert (
        "multipart/form-data"
        in document["paths"]["/api/v1/batches"]["post"]["requestBody"]["content"]
    )
    docs = await client.get("/api/v1/docs")
    assert docs.status_code == 200
    # Swagger UI loads from this server, never from a CDN.
    scripts = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert scripts and all(url.startswith("/api/v1/docs/static/") for url in scripts), scripts
    for url in scripts:
        assert (await client.get(url)).status_code == 200, url
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}

    response = await client.get("/api/v1/batches/bat_x", headers={"X-Request-Id": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    metrics = (await client.get("/metrics")).text
    assert (
        'lc_gateway_requests_total{method="GET",route="/api/v1/batches/{batch_id}",status="401"}'
        in metrics
    )
    assert "lc_gateway_request_seconds_bucket" in metrics
