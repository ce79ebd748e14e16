"""Notifier: a final email when a batch finishes and a daily summary, each sent exactly once;
client webhooks, signed and retried for a day."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from lc_common.clock import Clock
from lc_common.consuming_app import create_consuming_app
from lc_common.http import install_error_handlers
from lc_common.logging import configure_logging
from lc_common.service import Workers, serve
from lc_notifier.api import router as internal
from lc_notifier.bootstrap import NotifierRuntime, build
from lc_notifier.config import NotifierSettings
from lc_notifier.handlers import NotifierDeps, run_daily
from lc_notifier.webhooks.sender import sender_loop


async def daily_loop(deps: NotifierDeps, interval: float) -> None:
    """Every `interval` seconds: send due daily summaries, retry failed sends."""
    while True:
        await run_daily(deps)
        await asyncio.sleep(interval)


def create_app(settings: NotifierSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """The notifier app; its lifespan starts the consumers, the daily loop and the webhook
    sender; it serves the internal webhook API."""
    settings = settings or NotifierSettings()

    def start_loops(runtime: NotifierRuntime, workers: Workers) -> None:
        workers.start("daily", daily_loop(runtime.deps, settings.daily_check_interval_seconds))
        workers.start(
            "webhooks", sender_loop(runtime.webhooks, settings.webhooks_send_interval_seconds)
        )

    app = create_consuming_app(
        title="Lead Cleanser notifier",
        settings=settings,
        open_runtime=lambda: build(settings, clock),
        on_start=start_loops,
    )
    install_error_handlers(app)
    app.include_router(internal)
    return app


def run() -> None:
    """Console entry point `lc-notifier`."""
    settings = NotifierSettings()
    configure_logging("notifier", settings.log_level)
    serve(create_app(settings), settings)
