"""The gateway's edge on the real store: throttling, sessions, idempotency, field limits."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from tests.integration.gateway.conftest import (
    PASSWORD,
    Stack,
    csrf_token_of,
    log_in,
    running_stack,
)
from tests.integration.gateway.test_gateway_api import bearer, leads_csv, multipart

from lc_localstack.mailbox import running_mailbox

pytestmark = pytest.mark.mongo

FIELDS = {"name": "May", "reference": "R-1", "phone_column": "phone", "default_region": "AU"}


async def test_wrong_api_keys_meet_429_with_retry_after(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Guessed")
    answers = [
        await client.get("/api/v1/batches", headers=bearer(f"lc_live_{'x' * 40}{i:03d}"))
        for i in range(40)
    ]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429] * 30
    last = answers[-1]
    assert last.json()["error"]["code"] == "too_many_attempts"
    assert 1 <= int(last.headers["retry-after"]) <= 60
    # Even a good key from that address waits: the address is what is throttled.
    assert (await client.get("/api/v1/batches", headers=bearer(owner.api_key))).status_code == 429


async def test_wrong_passwords_meet_429_and_the_owner_is_told_once(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    async with (
        running_mailbox(tmp_path / "mail") as mailbox,
        running_stack(smtp_port=mailbox.port) as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=30) as http,
    ):
        owner = await stack.new_account("Locked Co")
        page = await http.get("/login")
        token = csrf_token_of(page.text)
        statuses = []
        for _ in range(25):
            answer = await http.post(
                "/login", data={"email": owner.login, "password": "wrong", "csrf_token": token}
            )
            statuses.append(answer.status_code)
        assert statuses[:10] == [401] * 10
        assert statuses[10:] == [429] * 15
        assert int(answer.headers["retry-after"]) >= 1
        # Locked: even the right password waits for the window.
        right = await http.post(
            "/login", data={"email": owner.login, "password": PASSWORD, "csrf_token": token}
        )
        assert right.status_code == 429

        [mail] = await mailbox.wait_for(1)
        assert mail["To"] == owner.account.email
        assert owner.login in mail.get_content()
        await asyncio.sleep(0.5)
        assert len(mailbox.messages()) == 1


async def test_a_session_ends_at_logout_on_the_api_and_the_panel(stack: Stack) -> None:
    owner = await stack.new_account("Session Co")
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        token = await log_in(http, owner.login)
        captured = http.cookies.get("lc_session")
        assert captured and len(captured) >= 40
        assert (await http.get("/api/v1/batches")).status_code == 200
        logout = await http.post("/logout", data={"csrf_token": token})
        assert logout.status_code == 303

    async with httpx.AsyncClient(
        base_url=stack.url, timeout=30, cookies={"lc_session": captured}
    ) as replay:
        assert (await replay.get("/api/v1/batches")).status_code == 401
        page = await replay.get("/batches")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_a_password_change_or_removal_ends_every_session_of_the_user(stack: Stack) -> None:
    owner = await stack.new_account("Rotate Co")
    async with (
        httpx.AsyncClient(base_url=stack.url, timeout=30) as first,
        httpx.AsyncClient(base_url=stack.url, timeout=30) as second,
    ):
        await log_in(first, owner.login)
        await log_in(second, owner.login)
        await stack.accounts.change_password(owner.login, "a brand new passphrase")
        assert (await first.get("/api/v1/batches")).status_code == 401
        assert (await second.get("/batches")).status_code == 303

        await log_in(first, owner.login, "a brand new passphrase")
        assert (await first.get("/api/v1/batches")).status_code == 200
        await stack.accounts.remove_user(owner.login)
        assert (await first.get("/api/v1/batches")).status_code == 401


async def test_session_cookie_flags(stack: Stack) -> None:
    owner = await stack.new_account("Cookie Co")
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        page = await http.get("/login")
        response = await http.post(
            "/login",
            data={
                "email": owner.login,
                "password": PASSWORD,
                "csrf_token": csrf_token_of(page.text),
            },
        )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The test stack runs on plain HTTP with insecure_cookies; production sets Secure.
    assert "Secure" not in cookie


async def test_a_retried_batch_is_created_once_and_replayed(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Retry Co")
    body, content_type = multipart(FIELDS, leads_csv(30))
    key = f"retry-{uuid.uuid4().hex}"
    headers = {**bearer(owner.api_key), "Content-Type": content_type, "Idempotency-Key": key}

    first = await client.post("/api/v1/batches", content=body, headers=headers)
    again = await client.post("/api/v1/batches", content=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(stack.ingest.uploads) == 1

    changed, changed_type = multipart({**FIELDS, "name": "Other"}, leads_csv(30))
    reused = await client.post(
        "/api/v1/batches", content=changed, headers={**headers, "Content-Type": changed_type}
    )
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert len(stack.ingest.uploads) == 1

    # Another account's same key is its own.
    other = await stack.new_account("Other Retry Co")
    theirs = await client.post(
        "/api/v1/batches", content=body, headers={**headers, **bearer(other.api_key)}
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]


async def test_a_duplicate_while_the_first_is_in_flight_answers_409(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Impatient Co")
    body, content_type = multipart(FIELDS, leads_csv(10))
    headers = {
        **bearer(owner.api_key),
        "Content-Type": content_type,
        "Idempotency-Key": uuid.uuid4().hex,
    }
    stack.ingest.hold_create = asyncio.Event()
    first = asyncio.create_task(client.post("/api/v1/batches", content=body, headers=headers))
    await asyncio.wait_for(stack.ingest.create_started.wait(), 10)

    duplicate = await client.post("/api/v1/batches", content=body, headers=headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "idempotency_key_in_progress"

    stack.ingest.hold_create.set()
    assert (await first).status_code == 201
    replayed = await client.post("/api/v1/batches", content=body, headers=headers)
    assert replayed.json()["id"] == (await first).json()["id"]
    assert len(stack.ingest.uploads) == 1


async def test_a_failed_request_releases_its_key(stack: Stack, client: httpx.AsyncClient) -> None:
    owner = await stack.new_account("Failing Co")
    key = uuid.uuid4().hex
    headers = {**bearer(owner.api_key), "Idempotency-Key": key}
    bad, bad_type = multipart({**FIELDS, "default_region": "AUS"}, leads_csv(5))
    refused = await client.post(
        "/api/v1/batches", content=bad, headers={**headers, "Content-Type": bad_type}
    )
    assert refused.status_code == 422
    good, good_type = multipart(FIELDS, leads_csv(5))
    created = await client.post(
        "/api/v1/batches", content=good, headers={**headers, "Content-Type": good_type}
    )
    assert created.status_code == 201


async def test_a_retried_purchase_is_started_once(stack: Stack, client: httpx.AsyncClient) -> None:
    owner = await stack.new_account("Buyer Co")
    headers = {**bearer(owner.api_key), "Idempotency-Key": "buy-1"}
    first = await client.post("/api/v1/billing/purchases", json={"units": 100}, headers=headers)
    again = await client.post("/api/v1/billing/purchases", json={"units": 100}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["purchase_id"] == first.json()["purchase_id"]
    assert len(stack.billing.purchases) == 1
    other = await client.post("/api/v1/billing/purchases", json={"units": 5}, headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    malformed = await client.post(
        "/api/v1/billing/purchases",
        json={"units": 5},
        headers={**bearer(owner.api_key), "Idempotency-Key": "x" * 300},
    )
    assert malformed.status_code == 400


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "n" * 201), ("reference", "r" * 5000), ("phone_column", "p" * 201)],
)
async def test_text_fields_over_their_limit_are_refused_before_the_file(
    stack: Stack, client: httpx.AsyncClient, field: str, value: str
) -> None:
    owner = await stack.new_account(f"Fields {field}")
    body, content_type = multipart({**FIELDS, field: value}, leads_csv(20))
    answer = await client.post(
        "/api/v1/batches",
        content=body,
        headers={**bearer(owner.api_key), "Content-Type": content_type},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_field"
    assert stack.ingest.uploads == []


async def test_a_sixteen_mib_name_is_refused_without_reaching_ingest(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Huge Name Co")
    body, content_type = multipart({**FIELDS, "name": "n" * 900_000}, b"phone\n+61299999999\n")
    answer = await client.post(
        "/api/v1/batches",
        content=body,
        headers={**bearer(owner.api_key), "Content-Type": content_type},
    )
    assert answer.status_code == 422
    assert stack.ingest.uploads == []


async def test_non_ascii_internal_token_is_401(stack: Stack, client: httpx.AsyncClient) -> None:
    owner = await stack.new_account("Internal Co")
    for token in ("tökén".encode("latin-1"), "тест".encode(), b"\xff\xfe"):
        answer = await client.get(
            f"/internal/v1/accounts/{owner.account.id}", headers=[(b"x-lc-internal-token", token)]
        )
        assert answer.status_code == 401, token
        odd_key = await client.get(
            "/api/v1/batches", headers=[(b"authorization", b"Bearer " + token)]
        )
        assert odd_key.status_code == 401


async def test_readyz_names_the_failing_check_without_its_internals(
    gateway_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_stack() as stack, httpx.AsyncClient(base_url=stack.url) as http:
        assert (await http.get("/readyz")).json() == {"status": "ready"}

        async def broken() -> None:
            raise ConnectionError("mongodb://user:secret@10.0.0.7:27017 refused")

        monkeypatch.setattr(
            stack.app.state, "gateway", replace(stack.app.state.gateway, ping_store=broken)
        )
        answer = await http.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "not ready", "checks": {"store_answers": "unavailable"}}
    assert "secret" not in answer.text
