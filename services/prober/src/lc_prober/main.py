"""The prober service: places SIP test calls per trunk and publishes their signalling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from lc_common.logging import configure_logging
from lc_common.service import Workers, create_service_app, serve
from lc_prober.bootstrap import build
from lc_prober.config import ProberSettings


def create_app(settings: ProberSettings) -> FastAPI:
    """The prober app: health and metrics over HTTP, calls in the background."""
    workers = Workers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with build(settings, workers) as runtime:
            app.state.runtime = runtime
            yield

    async def consumers_assigned() -> None:
        await app.state.runtime.ready()

    app = create_service_app(
        title="Lead Cleanser prober",
        lifespan=lifespan,
        workers=workers,
        checks=[consumers_assigned],
    )
    return app


def run() -> None:
    """Entry point of `lc-prober`."""
    settings = ProberSettings()
    configure_logging("prober", settings.log_level)
    serve(create_app(settings), settings)
