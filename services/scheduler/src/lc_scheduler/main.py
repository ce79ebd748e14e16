"""The scheduler process: its app (health, metrics, `api`), the lease, and its workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from lc_common.clock import Clock, SystemClock
from lc_common.consumer import start_consumers
from lc_common.http import install_error_handlers
from lc_common.kafka import Publisher, ensure_topics, keep_topics
from lc_common.logging import configure_logging
from lc_common.service import Workers, create_service_app, serve
from lc_common.store import Document, connect_mongo, database, ping
from lc_common.trunks import load_trunks
from lc_scheduler.adapters.kafka import KafkaProbePublisher, scheduler_topics
from lc_scheduler.adapters.lease import MongoLeaseStore
from lc_scheduler.adapters.repository import Repository
from lc_scheduler.api import internal_router
from lc_scheduler.bootstrap import Scheduler, build
from lc_scheduler.config import SchedulerSettings
from lc_scheduler.leadership import Leadership, instance_id

log = structlog.get_logger(__name__)


def create_app(settings: SchedulerSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """The scheduler's app; its lifespan waits for the lease, then runs the scheduler.

    `clock` drives the schedule and retention (tests pass a manual one); the lease
    always runs on the wall clock.
    """
    settings = settings or SchedulerSettings()
    workers = Workers()
    client = connect_mongo(settings)
    leadership = Leadership(
        MongoLeaseStore(database(client, settings)),
        SystemClock(),
        instance_id(),
        ttl=timedelta(seconds=settings.lease_ttl_seconds),
        renew=timedelta(seconds=settings.lease_renew_seconds),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.scheduler = None
        app.state.leadership = leadership
        publisher = Publisher(settings)
        await publisher.start()
        try:
            lead = _lead(app, settings, client, publisher, workers, clock or SystemClock())
            workers.start("leadership", lead)
            yield
        finally:
            await workers.stop()
            built: Scheduler | None = getattr(app.state, "scheduler_built", None)
            if built is not None:
                await built.aclose()
            try:
                await leadership.release()
            finally:
                await publisher.stop()
                await client.close()

    async def store_ready() -> None:
        await ping(client)

    app = create_service_app(
        title="Lead Cleanser scheduler",
        lifespan=lifespan,
        workers=workers,
        checks=[store_ready],
        details=leadership.detail,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(internal_router())
    return app


async def _lead(
    app: FastAPI,
    settings: SchedulerSettings,
    client: AsyncMongoClient[Document],
    publisher: Publisher,
    workers: Workers,
    clock: Clock,
) -> None:
    """Wait for the lease; then take the store over for this term (fencing older leaders'
    writes), load the schedule, relay its outbox, run every worker and keep the lease."""
    leadership: Leadership = app.state.leadership
    await leadership.wait_until_leader()
    repo = Repository(database(client, settings))
    await repo.ensure_indexes()
    trunks = load_trunks(settings.trunks_file)
    probe_publisher = KafkaProbePublisher(settings, publisher, trunks)
    scheduler = build(settings, repo, probe_publisher, clock=clock, trunks=trunks)
    app.state.scheduler_built = scheduler
    scheduler.dispatcher.may_dispatch = lambda: leadership.is_leader
    scheduler.relay.may_publish = lambda: leadership.is_leader
    await ensure_topics(settings, scheduler_topics(trunks))
    await scheduler.start(leadership.epoch)
    start_consumers(workers, settings, scheduler.consumers, publisher)
    workers.start("dispatch", scheduler.dispatcher.run())
    workers.start("sweeps", scheduler.dispatcher.run_sweeps())
    workers.start("releases", scheduler.credit.run_releases())
    workers.start("retention", scheduler.retention.run())
    workers.start("topics", keep_topics(settings, scheduler_topics(trunks)))
    if settings.redrive_on_startup:
        workers.start("startup-redrive", scheduler.redriver.run_at_startup())
    if settings.redrive_interval_seconds:
        workers.start(
            "periodic-redrive", scheduler.redriver.run_every(settings.redrive_interval_seconds)
        )
    app.state.scheduler = scheduler
    log.info(
        "scheduler_started",
        instance=leadership.owner,
        trunks=[t.name for t in scheduler.trunks],
        bounds=scheduler.dispatcher.bounds,
        windows_enforced=settings.windows_enforced,
        epoch=leadership.epoch,
    )
    await leadership.keep()


def run() -> None:
    """Console entry point `lc-scheduler`."""
    settings = SchedulerSettings()
    configure_logging("scheduler", settings.log_level)
    serve(create_app(settings), settings)
