"""Billing: the credit ledger. Reserves a unit per lead before it is dialled, settles it on
the lead's final verdict, announces exhausted/restored credit, sells credit."""

from __future__ import annotations

from fastapi import FastAPI

from lc_billing.api import internal, webhooks
from lc_billing.bootstrap import build
from lc_billing.config import BillingSettings
from lc_common.clock import Clock
from lc_common.consuming_app import create_consuming_app
from lc_common.http import install_error_handlers
from lc_common.logging import configure_logging
from lc_common.service import serve


def create_app(settings: BillingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """The billing app; its lifespan connects the peers, starts the verdict consumer,
    the outbox relay and the reconciler."""
    settings = settings or BillingSettings()
    app = create_consuming_app(
        title="Lead Cleanser billing",
        settings=settings,
        open_runtime=lambda: build(settings, clock),
        on_start=lambda runtime, workers: runtime.start_workers(workers),
    )
    install_error_handlers(app)
    app.include_router(internal)
    app.include_router(webhooks)
    return app


def run() -> None:
    """Console entry point `lc-billing`."""
    settings = BillingSettings()
    configure_logging("billing", settings.log_level)
    serve(create_app(settings), settings)
