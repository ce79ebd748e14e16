"""The MongoDB client, PyMongo's async API (the maintained successor of Motor)."""

from __future__ import annotations

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
    """The service's database."""
    return client[settings.mongodb_database]


async def ping(client: AsyncMongoClient[Document]) -> None:
    """Raise unless the store answers."""
    await client.admin.command("ping")
