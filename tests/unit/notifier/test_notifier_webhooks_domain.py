"""Webhook rules with plain values: payloads, ids, secrets, signatures, the back-off."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from lc_common.events import BatchEventV1, CreditEventV1
from lc_notifier.webhooks import domain

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def finished(**fields: object) -> BatchEventV1:
    return BatchEventV1(
        account_id="acc_1",
        batch_id="bat_9",
        kind="finished",
        name="March",
        reference="R-7",
        occurred_at=T0,
        **fields,  # type: ignore[arg-type]
    )


def test_batch_finished_carries_the_batch_counters_in_the_standard_envelope() -> None:
    batch = {
        "accepted": 16,
        "connected": 9,
        "disconnected": 5,
        "indeterminate": 2,
        "processed": 16,
        "remaining": 0,
        "secret_field": "x",
    }
    event = domain.batch_event(finished(), batch)
    assert event is not None
    body = json.loads(event.body())
    assert body == {
        "type": "batch.finished",
        "timestamp": "2025-03-03T09:00:00Z",
        "data": {
            "batch_id": "bat_9",
            "name": "March",
            "reference": "R-7",
            "status": "finished",
            "accepted": 16,
            "connected": 9,
            "disconnected": 5,
            "indeterminate": 2,
            "processed": 16,
            "remaining": 0,
        },
    }
    assert event.key == "batch.finished:bat_9"


def test_paused_no_credit_is_keyed_by_its_event_and_other_kinds_mean_nothing() -> None:
    paused = BatchEventV1(account_id="acc_1", batch_id="bat_9", kind="credit_paused")
    event = domain.batch_event(paused, None)
    assert event is not None and event.type == "batch.paused_no_credit"
    assert event.key == f"batch.paused_no_credit:{paused.event_id}"
    assert json.loads(event.body())["data"]["status"] == "paused_no_credit"
    for kind in ("queued", "paused", "resumed", "failed", "deleted", "credit_resumed"):
        other = BatchEventV1(account_id="acc_1", batch_id="bat_9", kind=kind)  # type: ignore[arg-type]
        assert domain.batch_event(other, None) is None


def test_credit_low_on_exhausted_only() -> None:
    exhausted = CreditEventV1(account_id="acc_1", kind="exhausted", balance=0)
    event = domain.credit_event(exhausted)
    assert event is not None and event.type == "credit.low"
    assert json.loads(event.body())["data"] == {
        "balance": 0,
        "available": 0,
        "unit": "CU",
        "reason": "exhausted",
    }
    restored = CreditEventV1(account_id="acc_1", kind="restored", balance=5)
    assert domain.credit_event(restored) is None


def test_daily_summary_is_one_per_account_and_local_date() -> None:
    rows = [{"batch_id": "bat_9", "processed": 3, "connected": 3}]
    event = domain.daily_summary_event("acc_1", "2025-03-03", "Australia/Sydney", rows, T0)
    assert event.key == "batch.daily_summary:acc_1:2025-03-03"
    assert json.loads(event.body())["data"] == {
        "date": "2025-03-03",
        "time_zone": "Australia/Sydney",
        "batches": rows,
    }


def test_webhook_id_is_stable_per_endpoint_and_event() -> None:
    one = domain.webhook_id("wh_a", "batch.finished:bat_9")
    assert one == domain.webhook_id("wh_a", "batch.finished:bat_9")
    assert one.startswith("msg_")
    assert one != domain.webhook_id("wh_b", "batch.finished:bat_9")
    assert one != domain.webhook_id("wh_a", "batch.finished:bat_8")


def test_secrets_are_whsec_base64_of_at_least_24_random_bytes() -> None:
    secret = domain.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert secret != domain.new_secret()


def test_signed_headers_verify_under_the_standard_webhooks_library() -> None:
    secret = domain.new_secret()
    body = domain.batch_event(finished(), None).body()  # type: ignore[union-attr]
    now = datetime.now(UTC)
    headers = domain.signed_headers(secret, "msg_1", now, body)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers)["type"] == "batch.finished"
    with pytest.raises(WebhookVerificationError):
        Webhook(domain.new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("March", "April"), headers)


def test_back_off_follows_the_schedule_and_gives_up_within_a_day() -> None:
    delays = []
    now, attempts = T0, 1
    while (due := domain.next_attempt_at(attempts, T0, now)) is not None:
        delays.append(due - now)
        now, attempts = due, attempts + 1
    assert delays == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
    ]
    assert now - T0 <= timedelta(hours=24)
    assert attempts == 7  # the first attempt and six retries


def test_back_off_stops_at_the_give_up_horizon() -> None:
    late = T0 + timedelta(hours=23, minutes=59)
    assert domain.next_attempt_at(2, T0, late) is None
    assert domain.next_attempt_at(1, T0, T0, [timedelta(seconds=1)], timedelta(seconds=2)) == (
        T0 + timedelta(seconds=1)
    )
    assert domain.next_attempt_at(2, T0, T0, [timedelta(seconds=1)]) is None


def test_micros_round_trip_exactly() -> None:
    moment = datetime(2025, 3, 3, 9, 0, 0, 123456, tzinfo=UTC)
    assert domain.from_micros(domain.to_micros(moment)) == moment
    assert domain.to_micros(moment + timedelta(microseconds=1)) == domain.to_micros(moment) + 1
