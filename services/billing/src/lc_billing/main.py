"""Billing: the credit ledger. Deducts a unit per lead on its final verdict, sells credit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from lc_billing.bootstrap import BillingRuntime, bootstrap
from lc_billing.config import BillingSettings
from lc_billing.routes import install_error_handlers, internal, webhooks
from lc_common.clock import Clock
from lc_common.consumer import start_consumers
from lc_common.logging import configure_logging
from lc_common.service import Workers, create_service_app, serve
from lc_common.store import ping


def create_app(settings: BillingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """The billing app; its lifespan connects the peers and starts the verdict consumer."""
    settings = settings or BillingSettings()
    workers = Workers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await bootstrap(settings, clock)
        app.state.runtime = runtime
        app.state.deps = runtime.deps
        start_consumers(workers, settings, runtime.consumers, runtime.publisher)
        try:
            yield
        finally:
            await workers.stop()
            await runtime.close()

    async def store_answers() -> None:
        runtime: BillingRuntime = app.state.runtime
        await ping(runtime.mongo)

    app = create_service_app(
        title="Lead Cleanser billing", lifespan=lifespan, workers=workers, checks=[store_answers]
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(internal)
    app.include_router(webhooks)
    return app


def run() -> None:
    """Console entry point `lc-billing`."""
    settings = BillingSettings()
    configure_logging("billing", settings.log_level)
    serve(create_app(settings), settings)
