"""The ingest service: imports, batches, downloads, and the lead/batch projections."""

from __future__ import annotations

from fastapi import FastAPI

from lc_common.clock import Clock
from lc_common.consuming_app import create_consuming_app
from lc_common.http import install_error_handlers
from lc_common.logging import configure_logging
from lc_common.service import serve
from lc_ingest.api import router
from lc_ingest.bootstrap import build
from lc_ingest.config import IngestSettings


def create_app(settings: IngestSettings, clock: Clock | None = None) -> FastAPI:
    """The ingest app; its lifespan wires ingest, starts its consumers, the outbox relay,
    the reconciler and the imports left half done."""
    app = create_consuming_app(
        title="Lead Cleanser ingest",
        settings=settings,
        open_runtime=lambda: build(settings, clock),
        on_start=lambda runtime, workers: runtime.start_workers(workers),
    )
    install_error_handlers(app)
    app.include_router(router)
    return app


def run() -> None:
    """Entry point of `lc-ingest`."""
    settings = IngestSettings()
    configure_logging("ingest", settings.log_level)
    serve(create_app(settings), settings)
