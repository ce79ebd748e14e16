"""The MongoDB client, PyMongo's async API (the maintained successor of Motor)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from lc_common.settings import ServiceSettings

Document = dict[str, Any]


def connect_mongo(settings: ServiceSettings) -> AsyncMongoClient[Document]:
    """An async client for the configured store. Call inside the running event loop."""
    return AsyncMongoClient(
        settings.mongodb_uri.get_secret_value(),
        tz_aware=True,
        serverSelectionTimeoutMS=10_000,
        appname=f"lead-cleanser-{settings.mongodb_database}",
    )


def database(
    client: AsyncMongoClient[Document], settings: ServiceSettings
) -> AsyncDatabase[Document]:
    """The service's own database (no two services share collections)."""
    return client[settings.database_name]


async def ping(client: AsyncMongoClient[Document]) -> None:
    """Raise unless the store answers."""
    await client.admin.command("ping")


def to_store_time(moment: datetime) -> str:
    """A time as stored where it is updated or compared: fixed-width ISO 8601 UTC text.

    Such strings sort and compare like the times they stand for on every
    MongoDB-wire server; nx-27017 turns a datetime given to `$set` into a naive
    string, which no longer compares with a datetime.
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_store_time(value: datetime | str | None) -> datetime | None:
    """The aware UTC datetime of a stored time (either form), or None."""
    if value is None:
        return None
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
