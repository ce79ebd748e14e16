"""Webhook endpoints and deliveries, in the notifier's database.

- `webhook_endpoints`: `_id` = endpoint id (`wh_<hex>`), `account_id`, `url`, `events`,
  `secret` (`whsec_<base64>`), `created_at`, `created_us`.
- `webhook_deliveries`: `_id` = the `webhook-id` (stable per endpoint and event, so a
  replayed event finds its delivery and sends nothing more), the event's `type` and
  `body`, `state` pending → delivered | failed, `attempts`, the last status code or
  error, and times. Times that filters compare are integer microseconds (`*_us`): the
  local store does not order datetimes in update filters.

A sender takes a due delivery with one conditional write that sets a lease
(`lease_until_us`, `lease_owner`); only the lease's owner may record the outcome, and a
lease that runs out (the sender died mid-attempt) makes the delivery due again. Two
notifier replicas therefore never attempt the same delivery at the same time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from lc_common.store import Document
from lc_notifier.webhooks.domain import (
    DeliveryState,
    WebhookEvent,
    from_micros,
    to_micros,
    webhook_id,
)


@dataclass(frozen=True)
class Endpoint:
    """Where an account wants some of its events sent."""

    id: str
    account_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime

    def public(self) -> dict[str, Any]:
        """What the API shows of it (never the secret, which is shown once, on creation)."""
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Delivery:
    """One event for one endpoint, as a sender holds it while attempting it."""

    id: str
    endpoint_id: str
    account_id: str
    type: str
    body: str
    attempts: int
    first_attempt_us: int | None
    lease_owner: str | None


def _endpoint(doc: Document) -> Endpoint:
    return Endpoint(
        id=doc["_id"],
        account_id=doc["account_id"],
        url=doc["url"],
        events=tuple(doc["events"]),
        secret=doc["secret"],
        created_at=from_micros(doc["created_us"]),
    )


def _delivery(doc: Document) -> Delivery:
    return Delivery(
        id=doc["_id"],
        endpoint_id=doc["endpoint_id"],
        account_id=doc["account_id"],
        type=doc["type"],
        body=doc["body"],
        attempts=int(doc.get("attempts", 0)),
        first_attempt_us=doc.get("first_attempt_us"),
        lease_owner=doc.get("lease_owner"),
    )


def delivery_json(doc: Document) -> dict[str, Any]:
    """A delivery as the internal API (and so the client) sees it."""
    pending = doc["state"] == "pending"
    return {
        "id": doc["_id"],
        "endpoint_id": doc["endpoint_id"],
        "type": doc["type"],
        "state": doc["state"],
        "attempts": doc.get("attempts", 0),
        "last_status_code": doc.get("last_status_code"),
        "last_error": doc.get("last_error"),
        "created_at": _iso(doc.get("created_us")),
        "last_attempt_at": _iso(doc.get("last_attempt_us")),
        "next_attempt_at": _iso(doc.get("next_attempt_us")) if pending else None,
    }


def _iso(micros: int | None) -> str | None:
    return from_micros(micros).isoformat() if micros else None


class WebhookStore:
    """Endpoints per account, and the deliveries the sender works through."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._endpoints = db["webhook_endpoints"]
        self._deliveries = db["webhook_deliveries"]

    async def ensure_indexes(self) -> None:
        await self._endpoints.create_index([("account_id", 1), ("created_us", 1)])
        await self._deliveries.create_index([("state", 1), ("next_attempt_us", 1)])
        await self._deliveries.create_index([("account_id", 1), ("created_us", -1)])

    # Endpoints

    async def add_endpoint(
        self, account_id: str, url: str, events: list[str], secret: str, now: datetime
    ) -> Endpoint:
        doc = {
            "_id": f"wh_{secrets.token_hex(12)}",
            "account_id": account_id,
            "url": url,
            "events": events,
            "secret": secret,
            "created_at": now,
            "created_us": to_micros(now),
        }
        await self._endpoints.insert_one(doc)
        return _endpoint(doc)

    async def endpoints(self, account_id: str) -> list[Endpoint]:
        cursor = self._endpoints.find({"account_id": account_id}).sort("created_us", 1)
        return [_endpoint(doc) async for doc in cursor]

    async def endpoint(self, account_id: str, endpoint_id: str) -> Endpoint | None:
        """The account's endpoint; None for a missing one and for another account's."""
        doc = await self._endpoints.find_one({"_id": endpoint_id, "account_id": account_id})
        return None if doc is None else _endpoint(doc)

    async def remove_endpoint(self, account_id: str, endpoint_id: str) -> bool:
        result = await self._endpoints.delete_one({"_id": endpoint_id, "account_id": account_id})
        return result.deleted_count == 1

    async def subscribers(self, account_id: str, event_type: str) -> list[Endpoint]:
        return [e for e in await self.endpoints(account_id) if event_type in e.events]

    # Deliveries

    async def enqueue(self, endpoint: Endpoint, event: WebhookEvent, now: datetime) -> bool:
        """Add the event's delivery to the endpoint, due now; False if it exists already
        (a replayed event): whatever became of it stands."""
        now_us = to_micros(now)
        try:
            await self._deliveries.insert_one(
                {
                    "_id": webhook_id(endpoint.id, event.key),
                    "endpoint_id": endpoint.id,
                    "account_id": endpoint.account_id,
                    "type": event.type,
                    "event_key": event.key,
                    "body": event.body(),
                    "state": "pending",
                    "attempts": 0,
                    "created_us": now_us,
                    "next_attempt_us": now_us,
                    "lease_until_us": 0,
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def claim(self, now: datetime, lease_us: int, owner: str) -> Delivery | None:
        """Take one due delivery for `lease_us` microseconds (none due: None)."""
        now_us = to_micros(now)
        doc = await self._deliveries.find_one_and_update(
            {
                "state": "pending",
                "next_attempt_us": {"$lte": now_us},
                "lease_until_us": {"$lte": now_us},
            },
            {"$set": {"lease_until_us": now_us + lease_us, "lease_owner": owner}},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else _delivery(doc)

    async def record(
        self,
        delivery: Delivery,
        now: datetime,
        state: DeliveryState,
        *,
        status_code: int | None,
        error: str | None,
        next_at: datetime | None = None,
    ) -> bool:
        """The outcome of the attempt the lease was taken for; False if the lease was lost
        (another sender has the delivery now)."""
        now_us = to_micros(now)
        changes: dict[str, Any] = {
            "state": state,
            "attempts": delivery.attempts + 1,
            "last_status_code": status_code,
            "last_error": error[:500] if error else None,
            "last_attempt_us": now_us,
            "first_attempt_us": delivery.first_attempt_us or now_us,
            "lease_until_us": 0,
            "lease_owner": None,
        }
        if state == "delivered":
            changes["delivered_us"] = now_us
        if next_at is not None:
            changes["next_attempt_us"] = to_micros(next_at)
        result = await self._deliveries.update_one(
            {"_id": delivery.id, "state": "pending", "lease_owner": delivery.lease_owner},
            {"$set": changes},
        )
        return result.modified_count == 1

    async def deliveries(
        self, account_id: str, endpoint_id: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """The account's deliveries (of one endpoint, if given), newest first."""
        query: Document = {"account_id": account_id}
        if endpoint_id is not None:
            query["endpoint_id"] = endpoint_id
        cursor = self._deliveries.find(query).sort("created_us", -1).limit(limit)
        return [delivery_json(doc) async for doc in cursor]

    async def delivery(self, delivery_id: str) -> Document | None:
        return await self._deliveries.find_one({"_id": delivery_id})
