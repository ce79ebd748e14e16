"""The gateway: control panel (HTML) and public API v1 in front of ingest and billing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.middleware.sessions import SessionMiddleware

from lc_common.logging import configure_logging
from lc_common.service import Workers, create_service_app, serve
from lc_gateway import panel
from lc_gateway.api import API_PREFIX, api_router, internal
from lc_gateway.api.errors import install_error_handlers
from lc_gateway.bootstrap import Gateway, open_gateway
from lc_gateway.config import GatewaySettings
from lc_gateway.observability import ObservabilityMiddleware

log = structlog.get_logger(__name__)

SESSION_COOKIE = "lc_session"

OpenGateway = Callable[[GatewaySettings], AbstractAsyncContextManager[Gateway]]


def create_app(settings: GatewaySettings, *, wiring: OpenGateway = open_gateway) -> FastAPI:
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
    )
    install_error_handlers(app)
    app.include_router(api_router())
    app.include_router(internal.router)
    panel.install(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    # Added last, so it is outermost: it sees every request and times it whole.
    app.add_middleware(ObservabilityMiddleware)
    return app


def run() -> None:
    """Console entry point `lc-gateway`."""
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    serve(create_app(settings), settings)
