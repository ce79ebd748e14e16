"""`/api/v1/webhooks` and the panel's Webhooks page through the gateway to the real notifier
(real broker and store): registration with a secret shown once, listing, deletion,
deliveries, every call scoped to its account, CSRF on the panel's forms."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from tests.integration.gateway.conftest import Stack, csrf_token_of, log_in, running_stack
from tests.integration.gateway.standins import TOKEN
from tests.integration.gateway.test_gateway_api import bearer
from tests.support import serving

from lc_localstack.peers import free_port
from lc_notifier.config import NotifierSettings
from lc_notifier.main import create_app as notifier_app

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.timeout(120)]

HOOK = "http://127.0.0.1:9/hooks/in"


@pytest.fixture
async def stack(service_env: dict[str, str]) -> AsyncIterator[Stack]:
    settings = NotifierSettings(
        http_port=free_port(),
        internal_token=SecretStr(TOKEN),
        webhooks_allow_private_targets=True,
    )
    async with (
        serving(notifier_app(settings), settings.http_port) as notifier_url,
        running_stack(notifier_url=notifier_url) as running,
    ):
        yield running


async def test_webhooks_are_registered_listed_and_deleted_per_account(stack: Stack) -> None:
    mine = await stack.new_account("Hooks A")
    theirs = await stack.new_account("Hooks B")
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        anonymous = await http.post("/api/v1/webhooks", json={"url": HOOK, "events": []})
        assert anonymous.status_code == 401

        created = await http.post(
            "/api/v1/webhooks",
            json={"url": HOOK, "events": ["batch.finished", "credit.low"]},
            headers=bearer(mine.api_key),
        )
        assert created.status_code == 201, created.text
        hook = created.json()
        assert hook["secret"].startswith("whsec_")
        assert hook["url"] == HOOK and hook["events"] == ["batch.finished", "credit.low"]

        not_a_target = await http.post(
            "/api/v1/webhooks",
            json={"url": "ftp://hooks.example.com/in", "events": ["credit.low"]},
            headers=bearer(mine.api_key),
        )
        assert not_a_target.status_code == 422
        assert not_a_target.json()["error"]["code"] == "bad_webhook_url"
        unknown_event = await http.post(
            "/api/v1/webhooks",
            json={"url": HOOK, "events": ["batch.exploded"]},
            headers=bearer(mine.api_key),
        )
        assert unknown_event.status_code == 422

        listed = await http.get("/api/v1/webhooks", headers=bearer(mine.api_key))
        assert [w["id"] for w in listed.json()["webhooks"]] == [hook["id"]]
        assert "secret" not in listed.json()["webhooks"][0]
        their_list = await http.get("/api/v1/webhooks", headers=bearer(theirs.api_key))
        assert their_list.json() == {"webhooks": []}

        path = f"/api/v1/webhooks/{hook['id']}"
        for method, url in (("DELETE", path), ("GET", f"{path}/deliveries")):
            foreign = await http.request(method, url, headers=bearer(theirs.api_key))
            assert foreign.status_code == 404, (method, foreign.text)
            assert foreign.json()["error"]["code"] == "webhook_not_found"
        deliveries = await http.get(f"{path}/deliveries", headers=bearer(mine.api_key))
        assert deliveries.status_code == 200 and deliveries.json() == {"deliveries": []}

        deleted = await http.delete(path, headers=bearer(mine.api_key))
        assert deleted.status_code == 204
        again = await http.delete(path, headers=bearer(mine.api_key))
        assert again.status_code == 404
        assert (await http.get("/api/v1/webhooks", headers=bearer(mine.api_key))).json() == {
            "webhooks": []
        }

        document = (await http.get("/api/v1/openapi.json")).json()
        post = document["paths"]["/api/v1/webhooks"]["post"]
        assert "example" in post["responses"]["201"]["content"]["application/json"]
        assert post["requestBody"]["content"]["application/json"]["examples"]
        assert document["paths"]["/api/v1/webhooks/{webhook_id}/deliveries"]["get"]


async def test_the_panel_adds_shows_and_deletes_webhooks_with_csrf(stack: Stack) -> None:
    mine = await stack.new_account("Panel Hooks")
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as panel:
        token = await log_in(panel, mine.login)
        page = await panel.get("/webhooks")
        assert page.status_code == 200
        assert 'href="/webhooks"' in page.text and "No webhooks." in page.text

        forged = await panel.post("/webhooks", data={"url": HOOK, "events": "credit.low"})
        assert forged.status_code == 403

        added = await panel.post(
            "/webhooks",
            data={"csrf_token": token, "url": HOOK, "events": ["batch.finished", "credit.low"]},
        )
        assert added.status_code == 201, added.text
        secret = re.search(r'id="new-secret" class="key">(whsec_[^<]+)<', added.text)
        assert secret, "the secret is shown once"
        assert HOOK in added.text

        refused = await panel.post(
            "/webhooks",
            data={"csrf_token": token, "url": "ftp://x.example/in", "events": "credit.low"},
        )
        assert refused.status_code == 422 and "https://" in refused.text

        [hook] = (await panel.get("/api/v1/webhooks")).json()["webhooks"]
        listed = await panel.get("/webhooks")
        assert "whsec_" not in listed.text
        token = csrf_token_of(listed.text)
        gone = await panel.post(f"/webhooks/{hook['id']}/delete", data={"csrf_token": token})
        assert gone.status_code == 303
        assert "No webhooks." in (await panel.get("/webhooks")).text
