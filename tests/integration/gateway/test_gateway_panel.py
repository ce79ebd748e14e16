"""The control panel over HTTP: login, CSRF, batches, import, billing, API keys."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest
from tests.integration.gateway.conftest import PASSWORD, Stack, csrf_token_of, log_in
from tests.integration.gateway.standins import expected_download
from tests.integration.gateway.test_gateway_api import bearer, leads_csv, multipart

pytestmark = pytest.mark.mongo

COLUMNS = [
    "Client",
    "Name",
    "Reference",
    "Submitted",
    "Imported",
    "Accepted",
    "Connected",
    "Disconnected",
    "Indeterminate",
    "Retry",
    "Processed",
    "Remaining",
    "Finished",
    "Batch Id",
    "Status",
    "Paused",
    "Download",
]


async def test_login_logout_and_the_batches_table(stack: Stack, client: httpx.AsyncClient) -> None:
    owner = await stack.new_account("Panel Co")
    batch_id = stack.ingest.add_batch(owner.account.id, name="April leads")

    assert (await client.get("/batches")).status_code == 303
    page = await client.get("/login")
    cookie = page.headers["set-cookie"].lower()
    assert cookie.startswith("lc_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie
    token = csrf_token_of(page.text)
    refused = await client.post(
        "/login", data={"email": owner.login, "password": "wrong", "csrf_token": token}
    )
    assert refused.status_code == 401
    assert "Wrong email or password" in refused.text

    await log_in(client, owner.login.upper())
    batches = await client.get("/batches")
    assert batches.status_code == 200
    headers = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', batches.text)
    assert headers == COLUMNS
    assert batch_id in batches.text
    assert "April leads" in batches.text
    assert '<meta http-equiv="refresh" content="10">' in batches.text
    assert "Panel Co" in batches.text

    logout = await client.post("/logout", data={"csrf_token": csrf_token_of(batches.text)})
    assert logout.status_code == 303
    assert (await client.get("/batches")).status_code == 303


async def test_forms_without_the_csrf_token_are_refused(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Csrf Co")
    await client.get("/login")
    no_token = await client.post("/login", data={"email": owner.login, "password": PASSWORD})
    assert no_token.status_code == 403

    token = await log_in(client, owner.login)
    batch_id = stack.ingest.add_batch(owner.account.id)
    forged = await client.post(
        f"/batches/{batch_id}/pause", data={"paused": "true", "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    assert stack.ingest.batches[batch_id]["paused"] is False

    # The cookie alone does not let a script change anything through the API either.
    api_forged = await client.patch(f"/api/v1/batches/{batch_id}", json={"paused": True})
    assert api_forged.status_code == 403
    assert api_forged.json()["error"]["code"] == "csrf_failed"
    api_ok = await client.patch(
        f"/api/v1/batches/{batch_id}", json={"paused": True}, headers={"X-CSRF-Token": token}
    )
    assert api_ok.status_code == 200
    assert (await client.get("/api/v1/batches")).status_code == 200


async def test_pause_unpause_and_download_from_the_panel(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Pause Co")
    batch_id = stack.ingest.add_batch(owner.account.id)
    token = await log_in(client, owner.login)

    paused = await client.post(
        f"/batches/{batch_id}/pause", data={"paused": "true", "csrf_token": token}
    )
    assert paused.status_code == 303
    assert stack.ingest.batches[batch_id]["paused"] is True
    page = (await client.get("/batches")).text
    assert re.search(r'name="paused" value="true" checked', page)
    assert "pausing." in page

    # An unticked checkbox sends no field: that unpauses.
    await client.post(f"/batches/{batch_id}/pause", data={"csrf_token": token})
    assert stack.ingest.batches[batch_id]["paused"] is False
    fetched = await client.post(
        f"/batches/{batch_id}/pause",
        data={"paused": "true", "csrf_token": token},
        headers={"X-Requested-With": "fetch"},
    )
    assert fetched.json()["status"] == "paused"

    download = await client.get(f"/batches/{batch_id}/download")
    assert download.status_code == 200
    assert download.content == expected_download(batch_id)

    other = await stack.new_account("Other Co")
    foreign = stack.ingest.add_batch(other.account.id)
    missing = await client.post(
        f"/batches/{foreign}/pause", data={"paused": "true", "csrf_token": token}
    )
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]
    assert stack.ingest.batches[foreign]["paused"] is False


async def test_import_with_preview_streams_the_form_to_ingest(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Import Co")
    token = await log_in(client, owner.login)
    assert (await client.get("/import")).status_code == 200
    file_bytes = leads_csv(50)
    body, content_type = multipart(
        {"name": "May", "reference": "X1", "phone_column": "", "default_region": "AU"}, file_bytes
    )

    preview = await client.post(
        "/import/preview",
        content=body,
        headers={"Content-Type": content_type, "X-CSRF-Token": token, "X-Requested-With": "fetch"},
    )
    assert preview.status_code == 200
    assert 'id="step-format"' in preview.text
    assert "Lead 0" in preview.text

    # The token is the form's first field, never in the URL.
    signed, signed_type = multipart(
        {
            "csrf_token": token,
            "name": "May",
            "reference": "X1",
            "phone_column": "",
            "default_region": "AU",
        },
        file_bytes,
    )
    submitted = await client.post("/import", content=signed, headers={"Content-Type": signed_type})
    assert submitted.status_code == 303
    received = stack.ingest.uploads[-1]
    assert received.raw_sha256 == hashlib.sha256(signed).hexdigest()
    assert received.account_id == owner.account.id
    assert "May" in (await client.get("/batches")).text

    unsigned = await client.post("/import", content=body, headers={"Content-Type": content_type})
    assert unsigned.status_code == 403
    in_the_url = await client.post(
        f"/import?csrf_token={token}", content=body, headers={"Content-Type": content_type}
    )
    assert in_the_url.status_code == 403


async def test_billing_tab_and_buy_credit(stack: Stack, client: httpx.AsyncClient) -> None:
    owner = await stack.new_account("Billing Co")
    stack.billing.balances[owner.account.id] = 42
    stack.billing.transactions[owner.account.id] = [
        {
            "id": "txn_9",
            "kind": "deduction",
            "units": 7,
            "batch_id": "bat_abc",
            "description": "Batch April",
            "created_at": "2025-03-04T01:02:03+00:00",
            "status": "done",
        }
    ]
    stack.billing.receipts[owner.account.id] = [
        {
            "id": "pur_1",
            "purchase_id": "pur_1",
            "units": 5000,
            "amount_cents": 25000,
            "currency": "AUD",
            "provider": "stripe",
            "provider_session_id": "cs_test_abc",
            "paid_at": "2025-03-05T01:02:03+00:00",
        }
    ]
    token = await log_in(client, owner.login)

    page = await client.get("/billing")
    assert page.status_code == 200
    assert '<span id="balance">42</span>' in page.text
    assert "Batch April" in page.text
    assert "2025-03-04 12:02" in page.text  # 01:02 UTC is 12:02 in Sydney (AEDT)
    assert 'data-receipt-id="pur_1"' in page.text
    assert "AUD 250.00" in page.text and "cs_test_abc" in page.text

    # First the price and the total to confirm; nothing is bought yet.
    confirm = await client.post("/billing/buy", data={"units": "300", "csrf_token": token})
    assert confirm.status_code == 200
    assert '<td class="num" id="confirm-unit-price">AUD 0.05</td>' in confirm.text
    assert '<strong id="confirm-total">AUD 15.00</strong>' in confirm.text
    assert stack.billing.purchases == []
    buy = await client.post(
        "/billing/buy", data={"units": "300", "confirm": "yes", "csrf_token": token}
    )
    assert buy.status_code == 303
    assert buy.headers["location"].startswith(stack.settings.billing_url)
    assert stack.billing.purchases[-1]["units"] == 300
    assert stack.billing.purchases[-1]["return_url"] == f"{stack.url}/billing/return"
    assert stack.billing.purchases[-1]["cancel_url"] == f"{stack.url}/billing?checkout=cancelled"
    cancelled = await client.get("/billing?checkout=cancelled")
    assert 'id="checkout-cancelled"' in cancelled.text

    bad = await client.post("/billing/buy", data={"units": "-3", "csrf_token": token})
    assert bad.status_code == 303
    assert bad.headers["location"] == "/billing"
    assert len(stack.billing.purchases) == 1

    returned = await client.get("/billing/return")
    assert returned.status_code == 200
    assert "Thank you" in returned.text


async def test_api_keys_are_shown_once_and_work(stack: Stack, client: httpx.AsyncClient) -> None:
    owner = await stack.new_account("Keys Co")
    token = await log_in(client, owner.login)

    created = await client.post("/keys", data={"csrf_token": token})
    assert created.status_code == 201
    match = re.search(
        r'<code id="new-key" class="key">(lc_live_[A-Za-z0-9_-]+)</code>', created.text
    )
    assert match
    key = match.group(1)
    async with httpx.AsyncClient(base_url=stack.url) as script:
        assert (await script.get("/api/v1/batches", headers=bearer(key))).status_code == 200

    listing = await client.get("/keys")
    assert key not in listing.text
    assert key[:14] in listing.text

    key_id = next(
        k.id for k in await stack.accounts.api_keys(owner.account.id) if key.startswith(k.prefix)
    )
    revoked = await client.post(f"/keys/{key_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    async with httpx.AsyncClient(base_url=stack.url) as script:
        assert (await script.get("/api/v1/batches", headers=bearer(key))).status_code == 401
