"""Notifier: a final email when a batch finishes and a daily summary, each sent exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from lc_common.clock import Clock
from lc_common.consumer import start_consumers
from lc_common.logging import configure_logging
from lc_common.service import Workers, create_service_app, serve
from lc_common.store import ping
from lc_notifier.bootstrap import NotifierRuntime, bootstrap
from lc_notifier.config import NotifierSettings
from lc_notifier.handlers import NotifierDeps, run_daily


async def daily_loop(deps: NotifierDeps, interval: float) -> None:
    """Every `interval` seconds: send due daily summaries, retry failed sends."""
    while True:
        await run_daily(deps)
        await asyncio.sleep(interval)


def create_app(settings: NotifierSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """The notifier app; its lifespan starts both consumers and the daily loop."""
    settings = settings or NotifierSettings()
    workers = Workers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await bootstrap(settings, clock)
        app.state.runtime = runtime
        start_consumers(workers, settings, runtime.consumers, runtime.publisher)
        workers.start("daily", daily_loop(runtime.deps, settings.daily_check_interval_seconds))
        try:
            yield
        finally:
            await workers.stop()
            await runtime.close()

    async def store_answers() -> None:
        runtime: NotifierRuntime = app.state.runtime
        await ping(runtime.mongo)

    app = create_service_app(
        title="Lead Cleanser notifier", lifespan=lifespan, workers=workers, checks=[store_answers]
    )
    app.state.settings = settings
    return app


def run() -> None:
    """Console entry point `lc-notifier`."""
    settings = NotifierSettings()
    configure_logging("notifier", settings.log_level)
    serve(create_app(settings), settings)
