"""The gateway: control panel (HTML) and public API v1 in front of ingest and billing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.middleware import Middleware
from starlette.types import Scope

from lc_common.limits import Cap
from lc_common.logging import configure_logging
from lc_common.service import Workers, create_service_app, serve
from lc_gateway import panel
from lc_gateway.api import API_PREFIX, api_router, internal
from lc_gateway.api import users as users_api
from lc_gateway.api.errors import install_error_handlers
from lc_gateway.bootstrap import Gateway, build
from lc_gateway.config import GatewaySettings
from lc_gateway.edge.gate import ApiAuthGate
from lc_gateway.edge.observability import ObservabilityMiddleware
from lc_gateway.edge.session_cookie import SessionMiddleware
from lc_gateway.errors import BodyTooLarge
from lc_gateway.panel import users as panel_users
from lc_gateway.sessions import Sessions

log = structlog.get_logger(__name__)

# Routes whose bodies are CSV uploads, capped at `max_upload_bytes`; others at `max_body_bytes`.
UPLOAD_PATHS = frozenset(
    {f"{API_PREFIX}/batches", f"{API_PREFIX}/imports/preview", "/import", "/import/preview"}
)
# The API's documentation is public; every other /api/v1 request is authenticated first.
PUBLIC_API_PATHS = (f"{API_PREFIX}/openapi.json", f"{API_PREFIX}/docs")

BuildGateway = Callable[[GatewaySettings], AbstractAsyncContextManager[Gateway]]


def create_app(settings: GatewaySettings, *, wiring: BuildGateway = build) -> FastAPI:
    """The gateway app; `wiring` builds its adapters for the app's lifetime."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with wiring(settings) as gateway:
            app.state.gateway = gateway
            log.info("gateway_started", ingest=settings.ingest_url, billing=settings.billing_url)
            yield
        log.info("gateway_stopped")

    async def store_answers() -> None:
        await app.state.gateway.ping_store()

    def body_limit(scope: Scope) -> Cap:
        if scope.get("method") == "POST" and scope["path"] in UPLOAD_PATHS:
            return Cap(settings.max_upload_bytes, BodyTooLarge.code)
        return Cap(settings.max_body_bytes)

    def sessions_of(scope: Scope) -> Sessions:
        sessions: Sessions = scope["app"].state.gateway.sessions
        return sessions

    # A request meets, in order: observability, the body cap (the factory's layer,
    # wrapping `middleware`), the session, the API's gate.
    app = create_service_app(
        title="Lead Cleanser API",
        version="1",
        description="Public API v1: import CSVs of leads, follow batches, download results, "
        "and manage credit. Authenticate with `Authorization: Bearer <api key>`.",
        lifespan=lifespan,
        workers=Workers(),
        checks=[store_answers],
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        # Swagger UI's script and styles are served from the package, not a CDN:
        # the control panel works on networks that reach nothing outside.
        app_factory=FastAPIOffline,
        static_url=f"{API_PREFIX}/docs/static",
        body_limit=body_limit,
        middleware=[
            Middleware(SessionMiddleware, sessions_of=sessions_of, secure=settings.secure_cookies),
            Middleware(ApiAuthGate, prefix=f"{API_PREFIX}/", public=PUBLIC_API_PATHS),
        ],
    )
    # Where lc_common.http's internal-token check finds the token.
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(api_router())
    app.include_router(internal.router)
    app.include_router(users_api.router)
    panel.install(app)
    app.include_router(panel_users.router)

    app.add_middleware(ObservabilityMiddleware)
    return app


def app_from_environment() -> FastAPI:
    """The app built from `LC_*` settings (for `uvicorn --factory`)."""
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    return create_app(settings)


def run() -> None:
    """Console entry point `lc-gateway`."""
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    serve(create_app(settings), settings)
