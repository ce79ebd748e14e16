"""The ingest service: imports, batches, downloads, and the lead/batch projections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from lc_common.clock import Clock
from lc_common.http import install_error_handlers
from lc_common.logging import configure_logging
from lc_common.service import Workers, create_service_app, serve
from lc_ingest.api import router
from lc_ingest.bootstrap import build
from lc_ingest.config import IngestSettings


def create_app(settings: IngestSettings, clock: Clock | None = None) -> FastAPI:
    """The ingest app; its lifespan builds the runtime."""
    workers = Workers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with build(settings, workers, clock) as runtime:
            app.state.runtime = runtime
            yield

    async def store_answers() -> None:
        await app.state.runtime.ready()

    app = create_service_app(
        title="Lead Cleanser ingest", lifespan=lifespan, workers=workers, checks=[store_answers]
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(router)
    return app


def run() -> None:
    """Entry point of `lc-ingest`."""
    settings = IngestSettings()
    configure_logging("ingest", settings.log_level)
    serve(create_app(settings), settings)
