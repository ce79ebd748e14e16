"""Invitations and password resets in MongoDB (collections `invitations`, `password_resets`).

Both are keyed by the SHA-256 of their link's token; the token itself is never
stored. Using one is a single conditional write on `used_at: None`, so of two
concurrent uses exactly one wins. Times are fixed-width text (`to_store_time`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from lc_common.store import Document, from_store_time, to_store_time
from lc_gateway.domain.tokens import Invitation, PasswordReset


class MongoTokenStore:
    """`TokenStore` on an async PyMongo database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._invitations = db["invitations"]
        self._resets = db["password_resets"]

    async def ensure_indexes(self) -> None:
        """Index invitations by account and by id (idempotent)."""
        await self._invitations.create_index([("account_id", ASCENDING)])
        await self._invitations.create_index([("invitation_id", ASCENDING)])

    async def insert_invitation(self, invitation: Invitation) -> None:
        await self._invitations.insert_one(
            {
                "_id": invitation.token_hash,
                "invitation_id": invitation.id,
                "account_id": invitation.account_id,
                "email": invitation.email,
                "role": invitation.role,
                "invited_by": invitation.invited_by,
                "created_at": to_store_time(invitation.created_at),
                "expires_at": to_store_time(invitation.expires_at),
                "used_at": None,
            }
        )

    async def invitation(self, token_hash: str) -> Invitation | None:
        doc = await self._invitations.find_one({"_id": token_hash})
        return None if doc is None else _invitation(doc)

    async def invitations_of(self, account_id: str) -> list[Invitation]:
        cursor = self._invitations.find({"account_id": account_id, "used_at": None})
        found = [_invitation(doc) async for doc in cursor]
        return sorted(found, key=lambda invitation: invitation.created_at)

    async def use_invitation(self, token_hash: str, when: datetime) -> bool:
        result = await self._invitations.update_one(
            {"_id": token_hash, "used_at": None}, {"$set": {"used_at": to_store_time(when)}}
        )
        return result.modified_count == 1

    async def withdraw_invitation(
        self, account_id: str, invitation_id: str, when: datetime
    ) -> bool:
        result = await self._invitations.update_one(
            {"invitation_id": invitation_id, "account_id": account_id, "used_at": None},
            {"$set": {"used_at": to_store_time(when), "withdrawn": True}},
        )
        return result.modified_count == 1

    async def insert_reset(self, reset: PasswordReset) -> None:
        await self._resets.insert_one(
            {
                "_id": reset.token_hash,
                "user_id": reset.user_id,
                "account_id": reset.account_id,
                "created_at": to_store_time(reset.created_at),
                "expires_at": to_store_time(reset.expires_at),
                "used_at": None,
            }
        )

    async def reset(self, token_hash: str) -> PasswordReset | None:
        doc = await self._resets.find_one({"_id": token_hash})
        return None if doc is None else _reset(doc)

    async def use_reset(self, token_hash: str, when: datetime) -> bool:
        result = await self._resets.update_one(
            {"_id": token_hash, "used_at": None}, {"$set": {"used_at": to_store_time(when)}}
        )
        return result.modified_count == 1


def _time(value: Any) -> datetime:
    moment = from_store_time(value)
    assert moment is not None
    return moment


def _invitation(doc: dict[str, Any]) -> Invitation:
    return Invitation(
        id=doc["invitation_id"],
        token_hash=doc["_id"],
        account_id=doc["account_id"],
        email=doc["email"],
        role=doc["role"],
        invited_by=doc["invited_by"],
        created_at=_time(doc["created_at"]),
        expires_at=_time(doc["expires_at"]),
        used_at=from_store_time(doc.get("used_at")),
    )


def _reset(doc: dict[str, Any]) -> PasswordReset:
    return PasswordReset(
        token_hash=doc["_id"],
        user_id=doc["user_id"],
        account_id=doc["account_id"],
        created_at=_time(doc["created_at"]),
        expires_at=_time(doc["expires_at"]),
        used_at=from_store_time(doc.get("used_at")),
    )
