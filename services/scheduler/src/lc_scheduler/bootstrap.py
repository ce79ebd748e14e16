"""The one place where the scheduler's parts are built and wired together (`build`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import httpx

from lc_common.clock import Clock, SystemClock
from lc_common.consumer import ConsumerSpec
from lc_common.consuming.groups import consumer_group
from lc_common.consuming.progress import handled_before
from lc_common.events import LEAD_VERDICTS
from lc_common.http import pooled_client
from lc_common.trunks import Trunk, load_trunks
from lc_scheduler.adapters.billing import BillingClient
from lc_scheduler.adapters.ingest import IngestClient
from lc_scheduler.config import SchedulerSettings
from lc_scheduler.consumers import scheduler_consumers
from lc_scheduler.credit import Credit
from lc_scheduler.dispatcher import Dispatcher, DispatchOptions
from lc_scheduler.domain.placing import Placing
from lc_scheduler.handlers import (
    BatchEvents,
    CreditEvents,
    LeadsAccepted,
    LeadVerdicts,
    ProbeRetries,
)
from lc_scheduler.ports import (
    BatchDeleter,
    Billing,
    OpenLeadsSource,
    ProbePublisher,
    ScheduleStore,
    VerdictProgress,
)
from lc_scheduler.redrive import Redriver
from lc_scheduler.relay import Lifetime, Relay
from lc_scheduler.retention import Retention
from lc_scheduler.schedule import Schedule

# Whose progress the re-drive waits for: ingest's consumer of the verdicts.
INGEST_VERDICTS = (consumer_group("ingest", LEAD_VERDICTS.name), LEAD_VERDICTS.name)


@dataclass
class Scheduler:
    """The wired scheduler: state, consumers, credit, dispatcher, relay, re-drive, retention."""

    settings: SchedulerSettings
    trunks: list[Trunk]
    schedule: Schedule
    consumers: list[ConsumerSpec[Any]]
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


def build(
    settings: SchedulerSettings,
    repo: ScheduleStore,
    publisher: ProbePublisher,
    *,
    clock: Clock | None = None,
    trunks: list[Trunk] | None = None,
    open_leads: OpenLeadsSource | None = None,
    deleter: BatchDeleter | None = None,
    billing: Billing | None = None,
    verdict_progress: VerdictProgress | None = None,
) -> Scheduler:
    """Wire the scheduler from its adapters; tests pass their own clock, trunks, ingest, billing.

    `verdict_progress` tells the re-drive how far ingest has read `lead.verdicts`; by
    default it is read from ingest's consumer group on the broker.

    billing and ingest are each called over one pooled HTTP client (`Scheduler.aclose`).
    """
    clock = clock or SystemClock()
    token = settings.internal_token.get_secret_value()
    timeout = settings.http_timeout_seconds
    billing_http = pooled_client(settings.billing_url, timeout, token)
    ingest_http = pooled_client(settings.ingest_url, timeout, token)
    ingest = IngestClient(ingest_http)
    trunks = trunks if trunks is not None else load_trunks(settings.trunks_file)
    policy = settings.calling_policy()
    schedule = Schedule(repo)
    placing = Placing(
        policy=policy,
        default_zones=settings.default_zones(),
        ignored_zones=frozenset(settings.ignored_zones),
        zone_prefixes=settings.zone_prefixes,
        windows_enforced=settings.windows_enforced,
        retry_schedule=[int(gap.total_seconds()) for gap in settings.retry_policy().gaps()],
    )
    credit = Credit(
        schedule,
        billing or BillingClient(billing_http),
        clock,
        recheck=timedelta(seconds=settings.credit_recheck_seconds),
        release_interval=timedelta(seconds=settings.release_interval_seconds),
    )
    batch_events = BatchEvents(
        schedule,
        clock,
        pause_requeue_after=timedelta(seconds=settings.pause_requeue_after),
        on_closed=credit.release_wake.set,
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
    return Scheduler(
        settings=settings,
        trunks=trunks,
        schedule=schedule,
        consumers=scheduler_consumers(
            settings,
            LeadsAccepted(schedule, placing, clock),
            ProbeRetries(schedule, placing),
            LeadVerdicts(schedule, placing, clock),
            batch_events,
            CreditEvents(schedule, credit.blocks),
        ),
        credit=credit,
        relay=relay,
        dispatcher=dispatcher,
        redriver=Redriver(
            schedule,
            placing,
            open_leads or ingest,
            clock,
            settings.redrive_page_size,
            timedelta(seconds=settings.redrive_final_grace_seconds),
            verdict_progress or partial(handled_before, settings, *INGEST_VERDICTS),
        ),
        retention=Retention(
            schedule,
            batch_events,
            deleter or ingest,
            clock,
            keep=timedelta(days=settings.retention_days),
            interval=timedelta(seconds=settings.retention_check_interval_seconds),
        ),
        peers=(billing_http, ingest_http),
    )
