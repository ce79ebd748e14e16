"""Webhook rules, free of I/O: event types, payloads, ids, secrets, signatures, back-off."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from standardwebhooks import Webhook

from lc_common.events import BatchEventV1, CreditEventV1

EventType = Literal["batch.finished", "batch.daily_summary", "batch.paused_no_credit", "credit.low"]
EVENT_TYPES: tuple[EventType, ...] = (
    "batch.finished",
    "batch.daily_summary",
    "batch.paused_no_credit",
    "credit.low",
)
DeliveryState = Literal["pending", "delivered", "failed"]

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32

# Svix's schedule, which the Standard Webhooks specification follows: after the first
# attempt, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h. Its next step (10 h more) would pass a day.
DEFAULT_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
DEFAULT_GIVE_UP_AFTER = timedelta(hours=24)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class WebhookEvent:
    """Something a client may subscribe to. `key` identifies the event itself (a batch's
    finish, one daily summary, one credit event), so a replay of the event that caused it
    yields the same key, and so the same `webhook-id` per endpoint."""

    type: EventType
    key: str
    account_id: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def body(self) -> str:
        """The JSON body every endpoint receives (Standard Webhooks: type, timestamp, data)."""
        envelope = {
            "type": self.type,
            "timestamp": self.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }
        return json.dumps(envelope, separators=(",", ":"), sort_keys=True)


def batch_event(event: BatchEventV1, batch: dict[str, Any] | None) -> WebhookEvent | None:
    """The webhook a batch event means, if any: `finished` → `batch.finished` (with the
    batch's counters when ingest's read is given), `credit_paused` → `batch.paused_no_credit`."""
    data: dict[str, Any] = {
        "batch_id": event.batch_id,
        "name": event.name,
        "reference": event.reference,
    }
    if event.kind == "finished":
        if batch is not None:
            data.update({k: batch[k] for k in BATCH_FIELDS if k in batch})
        data["status"] = "finished"
        return WebhookEvent(
            "batch.finished",
            f"batch.finished:{event.batch_id}",
            event.account_id,
            event.occurred_at,
            data,
        )
    if event.kind == "credit_paused":
        data["status"] = "paused_no_credit"
        return WebhookEvent(
            "batch.paused_no_credit",
            f"batch.paused_no_credit:{event.event_id}",
            event.account_id,
            event.occurred_at,
            data,
        )
    return None


BATCH_FIELDS = (
    "name",
    "reference",
    "imported",
    "accepted",
    "rejected",
    "connected",
    "disconnected",
    "indeterminate",
    "processed",
    "remaining",
    "submitted_at",
    "finished_at",
)


def credit_event(event: CreditEventV1) -> WebhookEvent | None:
    """`credit.low` when billing announces the account's credit exhausted: billing publishes
    no other low-credit signal, and this is the moment new calls stop (DESIGN.md I3)."""
    if event.kind != "exhausted":
        return None
    data = {"balance": event.balance, "available": 0, "unit": "CU", "reason": "exhausted"}
    return WebhookEvent(
        "credit.low", f"credit.low:{event.event_id}", event.account_id, event.occurred_at, data
    )


def daily_summary_event(
    account_id: str, day: str, time_zone: str, batches: Sequence[dict[str, Any]], now: datetime
) -> WebhookEvent:
    """The account's summary of one local date: per batch, the leads processed that day."""
    data = {"date": day, "time_zone": time_zone, "batches": list(batches)}
    return WebhookEvent(
        "batch.daily_summary", f"batch.daily_summary:{account_id}:{day}", account_id, now, data
    )


def webhook_id(endpoint_id: str, event_key: str) -> str:
    """The `webhook-id` of an event at an endpoint: the same for every replay and every
    retry, so a receiver can drop duplicates by it."""
    digest = hashlib.sha256(f"{endpoint_id}\n{event_key}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


def new_secret() -> str:
    """A signing secret, `whsec_` then the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(secret: str, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt: `webhook-signature` is
    `v1,<base64 HMAC-SHA256 of id.timestamp.body>` under the endpoint's secret."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
        "content-type": "application/json",
    }


def next_attempt_at(
    attempts: int,
    first_at: datetime,
    now: datetime,
    schedule: Sequence[timedelta] = DEFAULT_SCHEDULE,
    give_up_after: timedelta = DEFAULT_GIVE_UP_AFTER,
) -> datetime | None:
    """When to try again after `attempts` failed attempts (the last one ending `now`);
    None once the schedule is used up or the next try would fall more than
    `give_up_after` after the first attempt: the delivery has failed."""
    if attempts < 1 or attempts > len(schedule):
        return None
    due = now + schedule[attempts - 1]
    return None if due - first_at > give_up_after else due


def to_micros(moment: datetime) -> int:
    """A time as whole microseconds since the epoch: what store filters compare (the local
    store does not order datetimes in update filters)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)
