"""Accounts, users and API keys in MongoDB (collections `accounts`, `users`, `api_keys`).

A user stored before accounts had several users has no `role`, `name` or
`created_at`: it was its account's only login, so it reads as the owner
(`ensure_indexes` also writes the role in, once).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from lc_common.store import Document, from_store_time, to_store_time
from lc_gateway.domain.accounts import OWNER, Account, ApiKeyRecord, LoginTaken, User

_EARLIEST = datetime.min.replace(tzinfo=UTC)


class MongoAccountRepository:
    """`AccountRepository` on an async PyMongo database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._accounts = db["accounts"]
        self._users = db["users"]
        self._keys = db["api_keys"]

    async def ensure_indexes(self) -> None:
        """Create the indexes lookups and uniqueness rely on (idempotent)."""
        await self._users.create_index([("login", ASCENDING)], unique=True)
        await self._users.create_index([("account_id", ASCENDING)])
        await self._keys.create_index([("key_hash", ASCENDING)], unique=True)
        await self._keys.create_index([("account_id", ASCENDING)])
        # The single login of an account from before roles is its owner.
        await self._users.update_many({"role": {"$exists": False}}, {"$set": {"role": OWNER}})

    async def insert_account(self, account: Account) -> None:
        await self._accounts.insert_one(
            {
                "_id": account.id,
                "name": account.name,
                "email": account.email,
                "time_zone": account.time_zone,
                "created_at": account.created_at,
            }
        )

    async def delete_account(self, account_id: str) -> None:
        await self._accounts.delete_one({"_id": account_id})

    async def get_account(self, account_id: str) -> Account | None:
        doc = await self._accounts.find_one({"_id": account_id})
        if doc is None:
            return None
        return Account(
            id=doc["_id"],
            name=doc["name"],
            email=doc["email"],
            time_zone=doc.get("time_zone") or "Australia/Sydney",
            created_at=doc["created_at"],
        )

    async def insert_user(self, user: User) -> None:
        try:
            await self._users.insert_one(
                {
                    "_id": user.id,
                    "login": user.login,
                    "account_id": user.account_id,
                    "password_hash": user.password_hash,
                    "name": user.name,
                    "role": user.role,
                    "created_at": _store_time(user.created_at),
                    "removed_at": _store_time(user.removed_at),
                }
            )
        except DuplicateKeyError as exc:
            raise LoginTaken(user.login) from exc

    async def user_by_login(self, login: str) -> User | None:
        doc = await self._users.find_one({"login": login})
        user = None if doc is None else _user(doc)
        return user if user is not None and user.active else None

    async def user_by_id(self, user_id: str) -> User | None:
        doc = await self._users.find_one({"_id": user_id})
        return None if doc is None else _user(doc)

    async def users_of(self, account_id: str) -> list[User]:
        users = [_user(doc) async for doc in self._users.find({"account_id": account_id})]
        active = [user for user in users if user.active]
        # Users from before roles have no creation time: they came first.
        return sorted(active, key=lambda user: user.created_at or _EARLIEST)

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._users.update_one({"_id": user_id}, {"$set": {"password_hash": password_hash}})

    async def remove_user(self, user_id: str, when: datetime) -> bool:
        doc = await self._users.find_one({"_id": user_id})
        if doc is None or doc.get("removed_at"):
            return False
        # The record stays for the audit trail; its login becomes the id (never an
        # email), so the address is free for a new invitation.
        result = await self._users.update_one(
            {"_id": user_id, "login": doc["login"]},
            {"$set": {"login": user_id, "removed_at": to_store_time(when)}},
        )
        return result.modified_count == 1

    async def insert_api_key(self, record: ApiKeyRecord) -> None:
        await self._keys.insert_one(
            {
                "_id": record.id,
                "account_id": record.account_id,
                "key_hash": record.key_hash,
                "prefix": record.prefix,
                "created_at": record.created_at,
                "revoked_at": record.revoked_at,
            }
        )

    async def api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        doc = await self._keys.find_one({"key_hash": key_hash})
        return None if doc is None else _key_record(doc)

    async def api_keys_of(self, account_id: str) -> list[ApiKeyRecord]:
        cursor = self._keys.find({"account_id": account_id}).sort("created_at", DESCENDING)
        return [_key_record(doc) async for doc in cursor]

    async def revoke_api_key(self, account_id: str, key_id: str, when: datetime) -> bool:
        result = await self._keys.update_one(
            {"_id": key_id, "account_id": account_id, "revoked_at": None},
            {"$set": {"revoked_at": when}},
        )
        return result.modified_count == 1


def _store_time(moment: datetime | None) -> str | None:
    return None if moment is None else to_store_time(moment)


def _user(doc: dict[str, Any]) -> User:
    return User(
        id=doc["_id"],
        login=doc["login"],
        account_id=doc["account_id"],
        password_hash=doc["password_hash"],
        name=doc.get("name") or "",
        role=doc.get("role") or OWNER,
        created_at=from_store_time(doc.get("created_at")),
        removed_at=from_store_time(doc.get("removed_at")),
    )


def _key_record(doc: dict[str, Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=doc["_id"],
        account_id=doc["account_id"],
        key_hash=doc["key_hash"],
        prefix=doc["prefix"],
        created_at=doc["created_at"],
        revoked_at=doc.get("revoked_at"),
    )
