"""The one place where the gateway's real adapters are built and wired."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx

from lc_common.clock import Clock, SystemClock
from lc_common.http import pooled_client
from lc_common.store import connect_mongo, database, ping
from lc_gateway.accounts import AccountService
from lc_gateway.adapters.billing import BillingClient
from lc_gateway.adapters.idempotency import MongoIdempotencyStore
from lc_gateway.adapters.ingest import IngestClient
from lc_gateway.adapters.mail import SmtpMailer
from lc_gateway.adapters.mongo import MongoAccountRepository
from lc_gateway.adapters.notifier import NotifierClient
from lc_gateway.adapters.sessions import MongoSessionStore
from lc_gateway.adapters.tokens import MongoTokenStore
from lc_gateway.adapters.upstream import Upstream
from lc_gateway.config import GatewaySettings
from lc_gateway.edge.throttle import Throttle
from lc_gateway.idempotency import IdempotencyKeys
from lc_gateway.lockout import LockoutNotifier
from lc_gateway.mails import BackgroundMail
from lc_gateway.ports import AccountRepository, IdempotencyStore, Mailer, SessionStore, TokenStore
from lc_gateway.sessions import Sessions
from lc_gateway.users import LinkSettings, UserService

# A claimed Idempotency-Key whose request never finished is free again after this
# (longer than the slowest upload ingest may take).
IDEMPOTENCY_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Gateway:
    """Everything the handlers need: use cases, the edge's guards and the peers' clients."""

    settings: GatewaySettings
    accounts: AccountService
    users: UserService
    sessions: Sessions
    throttle: Throttle
    idempotency: IdempotencyKeys
    lockouts: LockoutNotifier
    mail: BackgroundMail
    ingest: IngestClient
    billing: BillingClient
    notifier: NotifierClient
    # Raises unless the store answers; used by /readyz.
    ping_store: Callable[[], Awaitable[None]]


def wire(
    settings: GatewaySettings,
    *,
    repository: AccountRepository,
    session_store: SessionStore,
    idempotency_store: IdempotencyStore,
    token_store: TokenStore,
    mailer: Mailer,
    ingest_http: httpx.AsyncClient,
    billing_http: httpx.AsyncClient,
    ping_store: Callable[[], Awaitable[None]],
    clock: Clock | None = None,
    notifier_http: httpx.AsyncClient | None = None,
) -> Gateway:
    """Wire given adapters into a `Gateway`; tests may pass their own (no `notifier_http`:
    a client of `settings.notifier_url`)."""
    clock = clock or SystemClock()
    token = settings.internal_token.get_secret_value()
    sessions = Sessions(
        session_store,
        clock,
        idle=timedelta(seconds=settings.session_idle_seconds),
        absolute=timedelta(seconds=settings.session_max_age),
    )
    accounts = AccountService(
        repository, clock, sessions=sessions, hash_slots=settings.password_hash_slots
    )
    mail = BackgroundMail(mailer)
    links = LinkSettings(
        public_url=settings.public_url,
        sender=settings.mail_from,
        invitation_ttl=timedelta(hours=settings.invitation_hours),
        reset_ttl=timedelta(minutes=settings.password_reset_minutes),
    )
    return Gateway(
        settings=settings,
        accounts=accounts,
        users=UserService(accounts, token_store, mail, clock, links),
        sessions=sessions,
        throttle=Throttle(
            settings.api_key_failure_limit,
            settings.login_failure_limit,
            settings.password_reset_limit,
        ),
        idempotency=IdempotencyKeys(
            idempotency_store,
            clock,
            ttl=timedelta(hours=settings.idempotency_hours),
            lease=IDEMPOTENCY_LEASE,
        ),
        lockouts=LockoutNotifier(mailer, settings.mail_from, settings.public_url),
        mail=mail,
        ingest=IngestClient(Upstream("ingest", ingest_http, token)),
        billing=BillingClient(Upstream("billing", billing_http, token)),
        notifier=NotifierClient(
            Upstream(
                "notifier", notifier_http or _http_client(settings.notifier_url, settings), token
            )
        ),
        ping_store=ping_store,
    )


def _http_client(base_url: str, settings: GatewaySettings) -> httpx.AsyncClient:
    # No token here: `Upstream` sends it with each call, beside the account.
    return pooled_client(base_url, settings.upstream_timeout_seconds, connect_timeout=5.0)


@asynccontextmanager
async def build(settings: GatewaySettings) -> AsyncIterator[Gateway]:
    """The real gateway: MongoDB for accounts, sessions and keys, httpx for peers, SMTP."""
    async with AsyncExitStack() as stack:
        client = connect_mongo(settings)
        stack.push_async_callback(client.close)
        db = database(client, settings)
        repository = MongoAccountRepository(db)
        await repository.ensure_indexes()
        session_store = MongoSessionStore(db)
        await session_store.ensure_indexes()
        token_store = MongoTokenStore(db)
        await token_store.ensure_indexes()
        ingest_http = await stack.enter_async_context(_http_client(settings.ingest_url, settings))
        billing_http = await stack.enter_async_context(_http_client(settings.billing_url, settings))
        notifier_http = await stack.enter_async_context(
            _http_client(settings.notifier_url, settings)
        )

        async def ping_store() -> None:
            await ping(client)

        gateway = wire(
            settings,
            repository=repository,
            session_store=session_store,
            idempotency_store=MongoIdempotencyStore(db),
            token_store=token_store,
            mailer=SmtpMailer(settings),
            ingest_http=ingest_http,
            billing_http=billing_http,
            ping_store=ping_store,
            notifier_http=notifier_http,
        )
        stack.push_async_callback(gateway.lockouts.drain)
        stack.push_async_callback(gateway.mail.drain)
        yield gateway
