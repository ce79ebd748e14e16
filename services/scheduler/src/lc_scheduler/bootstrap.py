"""The one place where the scheduler's parts are built and wired together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from lc_common.clock import Clock, SystemClock
from lc_common.consumer import Bulk, ConsumerRunner, ConsumerSpec, Single
from lc_common.events import (
    BATCH_EVENTS,
    BILLING_EVENTS,
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    PROBE_RETRIES,
    LeadAcceptedV1,
    LeadVerdictV1,
    ProbeRetryV1,
)
from lc_common.http import pooled_client
from lc_common.kafka import Publisher
from lc_common.trunks import Trunk, load_trunks
from lc_scheduler.adapters.billing import BillingClient
from lc_scheduler.adapters.ingest import IngestClient
from lc_scheduler.coalesce import Coalescer
from lc_scheduler.config import SchedulerSettings
from lc_scheduler.credit import Billing, Credit
from lc_scheduler.dispatcher import Dispatcher, DispatchOptions
from lc_scheduler.handlers import Handlers, Placing
from lc_scheduler.ports import ProbePublisher, ScheduleStore
from lc_scheduler.redrive import OpenLeadsSource, Redriver
from lc_scheduler.relay import Lifetime, Relay
from lc_scheduler.retention import BatchDeleter, Retention
from lc_scheduler.schedule import Schedule

GROUP = "scheduler"


@dataclass
class Scheduler:
    """The wired scheduler: state, handlers, credit, dispatcher, relay and re-drive."""

    settings: SchedulerSettings
    trunks: list[Trunk]
    schedule: Schedule
    handlers: Handlers
    verdicts: Coalescer[LeadVerdictV1]
    retries: Coalescer[ProbeRetryV1]
    credit: Credit
    relay: Relay
    dispatcher: Dispatcher
    redriver: Redriver
    retention: Retention
    peers: tuple[httpx.AsyncClient, ...]

    async def start(self, epoch: int) -> None:
        """Take the store over for this leader's term, load the schedule, relay the outbox."""
        self.relay.epoch = lambda: epoch
        await self.schedule.load(epoch)
        await self.relay.publish_unsent()

    async def aclose(self) -> None:
        """Close the pooled HTTP clients of the peers."""
        for client in self.peers:
            await client.aclose()

    def consumer_specs(self) -> list[ConsumerSpec[Any]]:
        """The scheduler's consumers: topic, group, handler and limits."""
        concurrent = Single(self.settings.consumer_concurrency)
        # Intake must keep up with a 200,000-lead import, or a small batch queued behind
        # it in the topic waits for all of it to be read: accepted leads go in bulks.
        intake = Bulk(self.handlers.accept_many, max_bulk=self.settings.intake_bulk_max)
        return [
            ConsumerSpec(LEADS_ACCEPTED, f"{GROUP}.leads-accepted", self._accept, intake),
            ConsumerSpec(PROBE_RETRIES, f"{GROUP}.probe-retries", self._retry, concurrent),
            ConsumerSpec(LEAD_VERDICTS, f"{GROUP}.lead-verdicts", self._verdict, concurrent),
            ConsumerSpec(BATCH_EVENTS, f"{GROUP}.batch-events", self.handlers.on_batch_event),
            ConsumerSpec(BILLING_EVENTS, f"{GROUP}.billing-events", self.credit.on_credit_event),
        ]

    async def _accept(self, event: LeadAcceptedV1) -> None:
        await self.handlers.accept_many([event])

    async def _verdict(self, event: LeadVerdictV1) -> None:
        await self.verdicts.handle(event)

    async def _retry(self, event: ProbeRetryV1) -> None:
        await self.retries.handle(event)

    def consumers(self, publisher: Publisher) -> list[ConsumerRunner[Any]]:
        """A runner per consumer spec, each with its spec's strategy."""
        return [ConsumerRunner(self.settings, spec, publisher) for spec in self.consumer_specs()]


def build_scheduler(
    settings: SchedulerSettings,
    repo: ScheduleStore,
    publisher: ProbePublisher,
    *,
    clock: Clock | None = None,
    trunks: list[Trunk] | None = None,
    open_leads: OpenLeadsSource | None = None,
    deleter: BatchDeleter | None = None,
    billing: Billing | None = None,
) -> Scheduler:
    """Wire the scheduler from its adapters; tests pass their own clock, trunks, ingest, billing.

    billing and ingest are each called over one pooled HTTP client (`Scheduler.aclose`).
    """
    clock = clock or SystemClock()
    token = settings.internal_token.get_secret_value()
    timeout = settings.http_timeout_seconds
    billing_http = pooled_client(settings.billing_url, timeout, token)
    ingest_http = pooled_client(settings.ingest_url, timeout, token)
    trunks = trunks if trunks is not None else load_trunks(settings.trunks_file)
    policy = settings.calling_policy()
    schedule = Schedule(repo)
    placing = Placing(
        policy=policy,
        default_zones=settings.default_zones(),
        ignored_zones=frozenset(settings.ignored_zones),
        zone_prefixes=settings.zone_prefixes,
        windows_enforced=settings.windows_enforced,
        # Used only when a non-final verdict names no next attempt time.
        retry_schedule=[int(gap.total_seconds()) for gap in settings.retry_policy().gaps()],
    )
    credit = Credit(
        schedule,
        billing or BillingClient(billing_http),
        clock,
        recheck=timedelta(seconds=settings.credit_recheck_seconds),
        release_interval=timedelta(seconds=settings.release_interval_seconds),
    )
    handlers = Handlers(
        schedule,
        clock,
        placing,
        on_closed=credit.release_wake.set,
        pause_requeue_after=timedelta(seconds=settings.pause_requeue_after),
    )
    relay = Relay(
        schedule, publisher, clock, Lifetime(timedelta(seconds=settings.probe_expiry_seconds))
    )
    dispatcher = Dispatcher(
        schedule,
        trunks,
        relay,
        credit,
        clock,
        policy,
        DispatchOptions(
            interval=timedelta(seconds=settings.dispatch_interval_seconds),
            outstanding_factor=settings.outstanding_factor,
            loop_seconds=settings.dispatch_loop_seconds,
            probe_timeout=timedelta(seconds=settings.probe_timeout_seconds),
            sweep_interval=timedelta(seconds=settings.sweep_interval_seconds),
            windows_enforced=settings.windows_enforced,
        ),
    )
    ingest = IngestClient(ingest_http)
    source = open_leads or ingest
    redriver = Redriver(
        handlers,
        source,
        clock,
        settings.redrive_page_size,
        timedelta(seconds=settings.redrive_final_grace_seconds),
    )
    return Scheduler(
        settings=settings,
        trunks=trunks,
        schedule=schedule,
        handlers=handlers,
        verdicts=Coalescer(handlers.apply_verdicts, settings.insert_batch_max),
        retries=Coalescer(handlers.apply_retries, settings.insert_batch_max),
        credit=credit,
        relay=relay,
        dispatcher=dispatcher,
        redriver=redriver,
        retention=Retention(
            handlers,
            deleter or ingest,
            clock,
            keep=timedelta(days=settings.retention_days),
            interval=timedelta(seconds=settings.retention_check_interval_seconds),
        ),
        peers=(billing_http, ingest_http),
    )
