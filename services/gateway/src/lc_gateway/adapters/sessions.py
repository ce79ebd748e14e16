"""Control panel sessions in MongoDB (collection `sessions`).

A record is keyed by the SHA-256 of the cookie's random id, so a copy of the
collection gives nobody a working cookie. Times are stored as fixed-width text
(`to_store_time`) so they compare alike on every MongoDB-wire server.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from lc_common.store import Document, from_store_time, to_store_time
from lc_gateway.domain.sessions import SessionRecord


def session_key(token: str) -> str:
    """The stored key of a session id."""
    return hashlib.sha256(token.encode()).hexdigest()


class MongoSessionStore:
    """`SessionStore` on an async PyMongo database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._sessions = db["sessions"]

    async def ensure_indexes(self) -> None:
        """Index by user, so every session of a user can be ended at once (idempotent)."""
        await self._sessions.create_index([("user_id", ASCENDING)])

    async def load(self, token: str) -> SessionRecord | None:
        doc = await self._sessions.find_one({"_id": session_key(token)})
        return None if doc is None else _record(token, doc)

    async def insert(self, record: SessionRecord) -> None:
        await self._sessions.insert_one(
            {
                "_id": session_key(record.token),
                "user_id": record.user_id,
                "data": record.data,
                "created_at": to_store_time(record.created_at),
                "seen_at": to_store_time(record.seen_at),
            }
        )

    async def save(self, token: str, data: dict[str, Any], seen_at: datetime) -> None:
        await self._sessions.update_one(
            {"_id": session_key(token)},
            {"$set": {"data": data, "seen_at": to_store_time(seen_at)}},
        )

    async def delete(self, token: str) -> None:
        await self._sessions.delete_one({"_id": session_key(token)})

    async def delete_user_sessions(self, user_id: str, keep: str | None = None) -> int:
        query: dict[str, Any] = {"user_id": user_id}
        if keep is not None:
            query["_id"] = {"$ne": session_key(keep)}
        result = await self._sessions.delete_many(query)
        return result.deleted_count

    async def delete_idle(self, idle_before: datetime, created_before: datetime) -> int:
        result = await self._sessions.delete_many(
            {
                "$or": [
                    {"seen_at": {"$lt": to_store_time(idle_before)}},
                    {"created_at": {"$lt": to_store_time(created_before)}},
                ]
            }
        )
        return result.deleted_count


def _record(token: str, doc: dict[str, Any]) -> SessionRecord:
    created = from_store_time(doc["created_at"])
    seen = from_store_time(doc["seen_at"])
    assert created is not None and seen is not None
    return SessionRecord(
        token=token,
        user_id=doc.get("user_id"),
        data=dict(doc.get("data") or {}),
        created_at=created,
        seen_at=seen,
    )
