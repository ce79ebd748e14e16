"""Idempotency keys in MongoDB (collection `idempotency_keys`, one record per account and key)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from lc_common.store import Document, from_store_time, to_store_time
from lc_gateway.domain.idempotency import DONE, IN_PROGRESS, KeyRecord, StoredResponse


def _id(account_id: str, key: str) -> str:
    return f"{account_id}:{key}"


class MongoIdempotencyStore:
    """`IdempotencyStore` on an async PyMongo database; the `_id` makes a claim unique."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._keys = db["idempotency_keys"]

    async def insert(self, record: KeyRecord) -> bool:
        try:
            await self._keys.insert_one(
                {
                    "_id": _id(record.account_id, record.key),
                    "account_id": record.account_id,
                    "key": record.key,
                    "state": record.state,
                    "request_hash": record.request_hash,
                    "created_at": to_store_time(record.created_at),
                    "expires_at": to_store_time(record.expires_at),
                    "lease_until": to_store_time(record.lease_until),
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def get(self, account_id: str, key: str) -> KeyRecord | None:
        doc = await self._keys.find_one({"_id": _id(account_id, key)})
        return None if doc is None else _record(doc)

    async def delete_stale(self, account_id: str, key: str, now: datetime) -> None:
        moment = to_store_time(now)
        await self._keys.delete_one(
            {
                "_id": _id(account_id, key),
                "$or": [
                    {"expires_at": {"$lte": moment}},
                    {"state": IN_PROGRESS, "lease_until": {"$lte": moment}},
                ],
            }
        )

    async def complete(
        self, account_id: str, key: str, request_hash: str, response: StoredResponse
    ) -> None:
        await self._keys.update_one(
            {"_id": _id(account_id, key)},
            {
                "$set": {
                    "state": DONE,
                    "request_hash": request_hash,
                    "status": response.status,
                    # Kept as text: a peer's answer may hold keys MongoDB would refuse.
                    "body": json.dumps(response.body),
                }
            },
        )

    async def release(self, account_id: str, key: str) -> None:
        await self._keys.delete_one({"_id": _id(account_id, key), "state": IN_PROGRESS})


def _record(doc: dict[str, Any]) -> KeyRecord:
    response = None
    if doc.get("state") == DONE:
        response = StoredResponse(status=int(doc["status"]), body=json.loads(doc["body"]))
    created, expires, lease = (
        from_store_time(doc.get(name)) for name in ("created_at", "expires_at", "lease_until")
    )
    assert created is not None and expires is not None and lease is not None
    return KeyRecord(
        account_id=doc["account_id"],
        key=doc["key"],
        state=doc["state"],
        request_hash=doc.get("request_hash"),
        response=response,
        created_at=created,
        expires_at=expires,
        lease_until=lease,
    )
