"""Client webhooks through the real broker and store to a real HTTP receiver: a signed
`batch.finished` after a finished batch event, a retry after a 500 with the same
`webhook-id`, a replayed event not delivered twice, two senders never sending one
delivery twice, the SSRF guard at registration and at send time, the internal API."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook
from tests.integration.notifier.support import TOKEN, consumed, gateway_app, ingest_app, sample
from tests.integration.notifier.webhook_support import internal_headers, running_receiver
from tests.support import serving, until

from lc_common.clock import SystemClock
from lc_common.events import BATCH_EVENTS, BILLING_EVENTS, BatchEventV1, CreditEventV1
from lc_common.kafka import Publisher, ensure_topics
from lc_common.store import connect_mongo, database
from lc_localstack.mailbox import running_mailbox
from lc_localstack.peers import free_port
from lc_notifier.config import NotifierSettings
from lc_notifier.main import create_app
from lc_notifier.webhooks import domain
from lc_notifier.webhooks.events import enqueue
from lc_notifier.webhooks.sender import WebhookDeps, http_client, send_due
from lc_notifier.webhooks.store import WebhookStore

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.smtp, pytest.mark.timeout(120)]

ACCOUNT = {"id": "acc_hooks", "name": "Hooked", "email": "ops@hooked.test", "time_zone": "UTC"}
BATCH = {
    "id": "bat_hooked",
    "account_id": "acc_hooks",
    "name": "March leads",
    "reference": "PO-9",
    "status": "finished",
    "imported": 17,
    "accepted": 16,
    "rejected": 1,
    "connected": 10,
    "disconnected": 4,
    "indeterminate": 2,
    "processed": 16,
    "remaining": 0,
    "finished_at": "2025-03-03T07:04:00+00:00",
}


def settings_for(
    gateway_url: str, ingest_url: str, smtp_port: int, **extra: object
) -> NotifierSettings:
    fields: dict[str, object] = {
        "http_port": free_port(),
        "gateway_url": gateway_url,
        "ingest_url": ingest_url,
        "smtp_port": smtp_port,
        "webhooks_allow_private_targets": True,
        "webhooks_send_interval_seconds": 0.1,
        "webhooks_retry_schedule": "1s,1s",
        **extra,
    }
    return NotifierSettings(**fields)  # type: ignore[arg-type]


async def test_a_finished_batch_reaches_the_receiver_signed_once_after_a_500(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    ingest, _ = ingest_app({"bat_hooked": BATCH}, [])
    async with (
        running_mailbox(tmp_path / "mail") as mailbox,
        serving(gateway_app({"acc_hooks": ACCOUNT}), free_port()) as gateway_url,
        serving(ingest, free_port()) as ingest_url,
        running_receiver(500) as receiver,
    ):
        settings = settings_for(gateway_url, ingest_url, mailbox.port)
        await ensure_topics(settings, [BATCH_EVENTS, BILLING_EVENTS])
        publisher = Publisher(settings)
        await publisher.start()
        finished = BatchEventV1(
            account_id="acc_hooks",
            batch_id="bat_hooked",
            kind="finished",
            name="March leads",
            reference="PO-9",
        )
        group = "notifier.batch-events"
        try:
            async with (
                serving(create_app(settings), settings.http_port) as notifier,
                httpx.AsyncClient(base_url=notifier, timeout=10) as http,
            ):
                created = await http.post(
                    "/internal/v1/webhooks",
                    json={"url": receiver.url, "events": ["batch.finished"]},
                    headers=internal_headers(TOKEN, "acc_hooks"),
                )
                assert created.status_code == 201, created.text
                endpoint = created.json()
                assert endpoint["secret"].startswith("whsec_")
                before = consumed(BATCH_EVENTS.name, group)
                await publisher.publish(BATCH_EVENTS, finished, key=finished.batch_id)
                # The first attempt meets a 500, the retry a second later a 200.
                await until(lambda: len(receiver.received) >= 2, within=60, what="a retry")
                # The same event again (a replay): nothing more is sent.
                await publisher.publish(BATCH_EVENTS, finished, key=finished.batch_id)
                await until(lambda: consumed(BATCH_EVENTS.name, group) - before >= 2, within=60)
                deliveries = await http.get(
                    f"/internal/v1/webhooks/{endpoint['id']}/deliveries",
                    headers=internal_headers(TOKEN, "acc_hooks"),
                )
                await asyncio.sleep(1.5)  # longer than the retry gap: a second send would show
        finally:
            await publisher.stop()

    assert len(receiver.received) == 2
    first, second = receiver.received
    expected_id = domain.webhook_id(endpoint["id"], "batch.finished:bat_hooked")
    assert receiver.ids() == [expected_id, expected_id]
    payload = Webhook(endpoint["secret"]).verify(second.body, second.headers)
    assert payload["type"] == "batch.finished"
    assert payload["data"]["batch_id"] == "bat_hooked"
    assert payload["data"]["accepted"] == 16 and payload["data"]["connected"] == 10
    assert Webhook(endpoint["secret"]).verify(first.body, first.headers) == payload
    assert second.headers["content-type"] == "application/json"
    [delivery] = deliveries.json()["deliveries"]
    assert delivery["id"] == expected_id
    assert delivery["state"] == "delivered"
    assert delivery["attempts"] == 2
    assert delivery["last_status_code"] == 200


async def test_credit_low_and_paused_no_credit_go_to_their_subscribers_only(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    ingest, _ = ingest_app({}, [])
    async with (
        running_mailbox(tmp_path / "mail") as mailbox,
        serving(gateway_app({"acc_hooks": ACCOUNT}), free_port()) as gateway_url,
        serving(ingest, free_port()) as ingest_url,
        running_receiver() as credit_receiver,
        running_receiver() as batch_receiver,
    ):
        settings = settings_for(gateway_url, ingest_url, mailbox.port)
        await ensure_topics(settings, [BATCH_EVENTS, BILLING_EVENTS])
        publisher = Publisher(settings)
        await publisher.start()
        exhausted = CreditEventV1(account_id="acc_hooks", kind="exhausted", balance=0)
        paused = BatchEventV1(account_id="acc_hooks", batch_id="bat_hooked", kind="credit_paused")
        try:
            async with serving(create_app(settings), settings.http_port) as notifier:
                async with httpx.AsyncClient(base_url=notifier, timeout=10) as http:
                    for url, events in (
                        (credit_receiver.url, ["credit.low"]),
                        (batch_receiver.url, ["batch.paused_no_credit", "batch.finished"]),
                    ):
                        created = await http.post(
                            "/internal/v1/webhooks",
                            json={"url": url, "events": events},
                            headers=internal_headers(TOKEN, "acc_hooks"),
                        )
                        assert created.status_code == 201, created.text
                await publisher.publish(BILLING_EVENTS, exhausted, key=exhausted.account_id)
                await publisher.publish(BATCH_EVENTS, paused, key=paused.batch_id)
                await until(
                    lambda: bool(credit_receiver.received and batch_receiver.received), within=60
                )
        finally:
            await publisher.stop()
    [low] = credit_receiver.received
    [pause] = batch_receiver.received
    assert json.loads(low.body)["type"] == "credit.low"
    assert json.loads(pause.body)["type"] == "batch.paused_no_credit"
    assert json.loads(pause.body)["data"]["batch_id"] == "bat_hooked"


async def test_the_internal_api_scopes_by_account_and_refuses_inside_targets_in_production(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    ingest, _ = ingest_app({}, [])
    async with (
        running_mailbox(tmp_path / "mail") as mailbox,
        serving(gateway_app({}), free_port()) as gateway_url,
        serving(ingest, free_port()) as ingest_url,
    ):
        settings = settings_for(
            gateway_url, ingest_url, mailbox.port, webhooks_allow_private_targets=False
        )
        async with (
            serving(create_app(settings), settings.http_port) as notifier,
            httpx.AsyncClient(base_url=notifier, timeout=10) as http,
        ):
            mine, theirs = internal_headers(TOKEN, "acc_a"), internal_headers(TOKEN, "acc_b")
            for url in (
                "http://127.0.0.1:9/x",
                "https://127.0.0.1/x",
                "https://localhost/x",
                "https://169.254.169.254/latest",
                "https://[::1]/x",
            ):
                refused = await http.post(
                    "/internal/v1/webhooks",
                    json={"url": url, "events": ["credit.low"]},
                    headers=mine,
                )
                assert refused.status_code == 422, url
                assert refused.json()["error"]["code"] == "bad_webhook_url"
            bad_event = await http.post(
                "/internal/v1/webhooks",
                json={"url": "https://8.8.8.8/x", "events": ["batch.exploded"]},
                headers=mine,
            )
            assert bad_event.status_code == 422
            no_token = await http.get("/internal/v1/webhooks", headers={"X-LC-Account-Id": "a"})
            assert no_token.status_code == 401
            created = await http.post(
                "/internal/v1/webhooks",
                json={"url": "https://8.8.8.8/x", "events": ["credit.low", "credit.low"]},
                headers=mine,
            )
            assert created.status_code == 201, created.text
            endpoint = created.json()
            assert endpoint["events"] == ["credit.low"]
            listed = (await http.get("/internal/v1/webhooks", headers=mine)).json()["webhooks"]
            assert [e["id"] for e in listed] == [endpoint["id"]]
            assert "secret" not in listed[0]
            assert (await http.get("/internal/v1/webhooks", headers=theirs)).json() == {
                "webhooks": []
            }
            foreign = await http.delete(f"/internal/v1/webhooks/{endpoint['id']}", headers=theirs)
            assert foreign.status_code == 404
            assert foreign.json()["error"]["code"] == "webhook_not_found"
            foreign_list = await http.get(
                f"/internal/v1/webhooks/{endpoint['id']}/deliveries", headers=theirs
            )
            assert foreign_list.status_code == 404
            deleted = await http.delete(f"/internal/v1/webhooks/{endpoint['id']}", headers=mine)
            assert deleted.status_code == 200
            assert (await http.get("/internal/v1/webhooks", headers=mine)).json() == {
                "webhooks": []
            }


async def test_two_senders_never_send_one_delivery_twice_and_inside_targets_are_refused_at_send(
    service_env: dict[str, str],
) -> None:
    settings = NotifierSettings()
    mongo = connect_mongo(settings)
    store = WebhookStore(database(mongo, settings))
    await store.ensure_indexes()
    clock = SystemClock()

    def sender(allow_private: bool) -> WebhookDeps:
        return WebhookDeps(
            store=store,
            http=http_client(5),
            clock=clock,
            allow_private=allow_private,
            schedule=[timedelta(hours=1)],
            concurrency=4,
        )

    first, second, production = sender(True), sender(True), sender(False)
    try:
        async with running_receiver() as receiver:
            endpoint = await store.add_endpoint(
                "acc_race", receiver.url, ["credit.low"], domain.new_secret(), clock.now()
            )
            events = [
                domain.credit_event(
                    CreditEventV1(account_id="acc_race", kind="exhausted", balance=0)
                )
                for _ in range(20)
            ]
            for event in events:
                assert event is not None
                assert await enqueue(event, first) == 1
                assert await enqueue(event, first) == 0  # the replay adds nothing
            sent = await asyncio.gather(send_due(first), send_due(second))
            assert sum(sent) == 20
            assert sorted(receiver.ids()) == sorted(
                domain.webhook_id(endpoint.id, e.key) for e in events if e is not None
            )
            # A name that resolves inside is refused when sending, not only when registering.
            refused_before = sample("lc_notifier_webhook_deliveries_total", outcome="retry")
            inside = domain.credit_event(
                CreditEventV1(account_id="acc_race", kind="exhausted", balance=0)
            )
            assert inside is not None
            await enqueue(inside, production)
            assert await send_due(production) == 1
            assert len(receiver.received) == 20
            [latest] = await store.deliveries("acc_race", endpoint.id, limit=1)
            assert latest["state"] == "pending"
            assert latest["last_error"].startswith("target refused")
            assert latest["next_attempt_at"] is not None
            after = sample("lc_notifier_webhook_deliveries_total", outcome="retry")
            assert after - refused_before == 1
    finally:
        for deps in (first, second, production):
            await deps.http.aclose()
        await mongo.close()
