"""The one place where the gateway's real adapters are built and wired."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx

from lc_common.store import connect_mongo, database, ping
from lc_gateway.accounts import AccountRepository, AccountService
from lc_gateway.adapters.billing import BillingClient
from lc_gateway.adapters.ingest import IngestClient
from lc_gateway.adapters.mongo import MongoAccountRepository
from lc_gateway.adapters.upstream import Upstream
from lc_gateway.config import GatewaySettings


@dataclass(frozen=True)
class Gateway:
    """Everything the handlers need: the account use cases and the peers' clients."""

    settings: GatewaySettings
    accounts: AccountService
    ingest: IngestClient
    billing: BillingClient
    # Raises unless the store answers; used by /readyz.
    ping_store: Callable[[], Awaitable[None]]


def build_gateway(
    settings: GatewaySettings,
    *,
    repository: AccountRepository,
    ingest_http: httpx.AsyncClient,
    billing_http: httpx.AsyncClient,
    ping_store: Callable[[], Awaitable[None]],
) -> Gateway:
    """Wire given adapters into a `Gateway`; tests may pass their own."""
    token = settings.internal_token.get_secret_value()
    return Gateway(
        settings=settings,
        accounts=AccountService(repository),
        ingest=IngestClient(Upstream("ingest", ingest_http, token)),
        billing=BillingClient(Upstream("billing", billing_http, token)),
        ping_store=ping_store,
    )


def _http_client(base_url: str, settings: GatewaySettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(settings.upstream_timeout_seconds, connect=5.0),
        follow_redirects=False,
    )


@asynccontextmanager
async def open_gateway(settings: GatewaySettings) -> AsyncIterator[Gateway]:
    """The real gateway: MongoDB for accounts, httpx for ingest and billing. Closes them after."""
    async with AsyncExitStack() as stack:
        client = connect_mongo(settings)
        stack.push_async_callback(client.close)
        repository = MongoAccountRepository(database(client, settings))
        await repository.ensure_indexes()
        ingest_http = await stack.enter_async_context(_http_client(settings.ingest_url, settings))
        billing_http = await stack.enter_async_context(_http_client(settings.billing_url, settings))

        async def ping_store() -> None:
            await ping(client)

        yield build_gateway(
            settings,
            repository=repository,
            ingest_http=ingest_http,
            billing_http=billing_http,
            ping_store=ping_store,
        )
